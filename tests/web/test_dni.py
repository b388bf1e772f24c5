"""GET /n through the app: a pool number per session, renewed by heartbeats, the fallback when
every number is out, and only what the visitor's consent allows kept on the lease."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import httpx
import pytest

from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.domain.clicks import ClickSigner
from firstmark.store import Store

ORIGIN = "https://shop.example"
FALLBACK = "+14155550100"
GRANTED = {"analytics_storage": "granted", "ad_storage": "granted", "ad_user_data": "granted"}


async def setup_pool(
    client: httpx.AsyncClient, size: int, *, fallback: str | None = FALLBACK, name: str = "web"
) -> tuple[str, dict[str, int]]:
    """A site on shop.example with a pool of `size` numbers: (site key, {number: id})."""
    created = await client.post("/api/v1/sites", json={"hosts": ["shop.example"]})
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    ids: dict[str, int] = {}
    for i in range(size):
        number = f"+1415555{2000 + i:04d}"
        body = {"number": number, "provider": "twilio", "forward_to": "+14155550199", "pool": name}
        answer = await client.post("/api/v1/numbers", json=body)
        assert answer.status_code == 201, answer.text
        ids[number] = answer.json()["id"]
    pool = {"site": key, **({"fallback": fallback} if fallback else {})}
    answer = await client.put(f"/api/v1/pools/{name}", json=pool)
    assert answer.status_code == 200, answer.text
    return key, ids


async def ask(
    anon: httpx.AsyncClient,
    key: str,
    *,
    origin: str | None = ORIGIN,
    headers: dict[str, str] | None = None,
    **params: str,
) -> httpx.Response:
    sent = {"origin": origin} if origin else {}
    answer = await anon.get(
        "/n", params={"site": key, **params}, headers={**sent, **(headers or {})}
    )
    assert "set-cookie" not in answer.headers
    return answer


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The time /n sees, moved by the test."""
    now = [time.time()]
    monkeypatch.setattr("firstmark.web.dni.time.time", lambda: now[0])
    return now


async def test_a_page_gets_a_number_of_its_sites_pool(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, clock: list[float]
) -> None:
    key, ids = await setup_pool(client, 3)
    answer = await ask(anon, key)
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["number"] in ids and got["display"].startswith("+1 415-555-")
    assert len(got["lease"]) >= 16 and got["renewed"] is False
    assert got["expires"] == int(clock[0] + 1800) and got["renew_s"] == 300
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-credentials" not in answer.headers
    pools = (await client.get("/api/v1/pools")).json()["items"]
    assert [(p["name"], p["numbers"], p["leased"]) for p in pools] == [("web", 3, 1)]


async def test_every_session_gets_its_own_number_then_the_fallback(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    key, ids = await setup_pool(client, 2)
    first, second = [(await ask(anon, key)).json() for _ in range(2)]
    assert {first["number"], second["number"]} == set(ids)
    out = (await ask(anon, key)).json()
    assert out == {
        "number": FALLBACK, "display": "+1 415-555-0100", "lease": None, "expires": None,
        "renew_s": None, "renewed": False,
    }  # fmt: skip


async def test_an_exhausted_pool_without_fallback_leaves_the_page_its_number(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    key, _ = await setup_pool(client, 1, fallback=None)
    assert (await ask(anon, key)).json()["lease"] is not None
    out = await ask(anon, key)
    assert out.status_code == 200 and out.json()["number"] is None


async def test_a_heartbeat_extends_the_lease(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store, clock: list[float]
) -> None:
    key, ids = await setup_pool(client, 2)
    start = clock[0]
    first = (await ask(anon, key)).json()
    clock[0] = start + 20 * 60
    again = (await ask(anon, key, lease=first["lease"])).json()
    assert (again["number"], again["lease"], again["renewed"]) == (
        first["number"],
        first["lease"],
        True,
    )
    assert again["expires"] == int(start + 50 * 60)
    held = await store.lease_at(ids[first["number"]], start + 45 * 60)
    assert held is not None and held.id == first["lease"]


async def test_a_lease_that_ran_out_is_replaced_by_a_new_one(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, clock: list[float]
) -> None:
    key, ids = await setup_pool(client, 2)
    first = (await ask(anon, key)).json()
    clock[0] += 31 * 60
    again = (await ask(anon, key, lease=first["lease"])).json()
    assert again["renewed"] is False and again["lease"] not in (None, first["lease"])
    # the least recently leased free number: the one nobody had yet
    assert again["number"] in ids and again["number"] != first["number"]


async def test_a_lease_id_nobody_was_given_takes_a_new_lease(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    key, _ = await setup_pool(client, 1)
    got = (await ask(anon, key, lease="Zz" * 11)).json()
    assert got["lease"] != "Zz" * 11 and got["renewed"] is False and got["lease"]


async def test_what_the_lease_keeps_follows_consent(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key, ids = await setup_pool(client, 3)
    link = await client.post("/api/v1/links", json={"destination": f"{ORIGIN}/"})
    token = ClickSigner("test-secret").token(link.json()["id"], time.time())
    landing: dict[str, Any] = {
        "utm_source": "Google", "utm_medium": "cpc", "utm_campaign": "Spring", "fm_click": token,
        "gclid": "G-123", "vid": "visitor-123456", "ref": "www.google.com",
    }  # fmt: skip

    async def kept(**params: Any) -> Any:
        got = (await ask(anon, key, **landing, **params)).json()
        lease = await store.lease_at(ids[got["number"]], time.time())
        assert lease is not None and lease.id == got["lease"]
        return lease

    full = await kept(**GRANTED)
    assert (full.visitor_id, full.click_token, dict(full.click_ids)) == (
        "visitor-123456",
        token,
        {"gclid": "G-123"},
    )
    assert (full.utm_source, full.utm_campaign, full.referrer_host) == (
        "google",
        "spring",
        "google.com",
    )
    assert full.link_id == link.json()["id"] and full.channel == "paid"
    assert full.consent.forwarding and full.site_id is not None

    gpc = await kept(**GRANTED, headers={"sec-gpc": "1"})
    assert gpc.visitor_id is None and gpc.click_token is None and dict(gpc.click_ids) == {}
    assert gpc.consent.gpc and not gpc.consent.forwarding
    assert gpc.utm_source == "google" and gpc.link_id == link.json()["id"]

    none = await kept()
    assert none.visitor_id is None and none.click_token is None and dict(none.click_ids) == {}
    assert none.consent.label == "none"


@pytest.mark.parametrize(
    ("params", "status", "field", "code"),
    [
        ({"site": "fms_0000000000000000"}, 403, "site", "unknown_site"),
        ({"site": "shop"}, 422, "site", "invalid_field"),
        ({"pool": "nope"}, 422, "pool", "unknown_pool"),
        ({"vid": "x"}, 422, "vid", "invalid_field"),
        ({"analytics_storage": "yes"}, 422, "analytics_storage", "invalid_field"),
        ({"email": "jane@example.org"}, 422, "email", "unknown_field"),
        ({"utm_source": "x" * 9000}, 422, "query", "too_long"),
    ],
)
async def test_bad_requests_name_the_field_and_take_no_number(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, params: dict[str, Any], status: int,
    field: str, code: str,
) -> None:  # fmt: skip
    key, _ = await setup_pool(client, 1)
    answer = await ask(anon, key, **params)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["code"]) == (field, code)
    assert "jane@example.org" not in answer.text
    assert [p["leased"] for p in (await client.get("/api/v1/pools")).json()["items"]] == [0]


async def test_a_site_without_a_pool_is_told_to_set_one_up(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    key = (await client.post("/api/v1/sites", json={"hosts": ["shop.example"]})).json()["key"]
    answer = await ask(anon, key)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "pool"


async def test_another_sites_page_gets_no_number(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    key, _ = await setup_pool(client, 1)
    foreign = await ask(anon, key, origin="https://elsewhere.example")
    assert foreign.status_code == 403 and foreign.json()["error"]["field"] == "origin"
    nameless = await ask(anon, key, origin=None)
    assert nameless.status_code == 403 and nameless.json()["error"]["field"] == "origin"
    other = await client.post("/api/v1/sites", json={"hosts": ["other.example"]})
    theirs = await ask(anon, other.json()["key"], origin="https://other.example", pool="web")
    assert theirs.status_code == 403 and theirs.json()["error"]["code"] == "other_site"
    assert [p["leased"] for p in (await client.get("/api/v1/pools")).json()["items"]] == [0]


async def test_a_same_origin_request_is_known_by_its_referer(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    key, ids = await setup_pool(client, 1)
    answer = await ask(anon, key, origin=None, headers={"referer": f"{ORIGIN}/contact"})
    assert answer.status_code == 200 and answer.json()["number"] in ids
    assert "access-control-allow-origin" not in answer.headers


async def test_a_pool_edit_shows_at_once(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    key, _ = await setup_pool(client, 1)
    await ask(anon, key)
    assert (await ask(anon, key)).json()["number"] == FALLBACK
    changed = await client.put("/api/v1/pools/web", json={"site": key, "fallback": "+14155550111"})
    assert changed.status_code == 200
    assert (await ask(anon, key)).json()["number"] == "+14155550111"


async def test_only_get_is_answered(client: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    answer = await anon.post("/n", content=b"{}")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET"


async def test_the_rate_limit_is_per_network(
    settings: Settings, store: Store, client: httpx.AsyncClient
) -> None:
    key, _ = await setup_pool(client, 5)
    app = create_app(replace(settings, dni_rate_limit=0.001, dni_rate_burst=2), store)
    answers = []
    for ip in ("203.0.113.7", "203.0.113.8", "203.0.113.9", "198.51.100.1"):
        transport = httpx.ASGITransport(app=app, client=(ip, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://fm.test") as http:
            answers.append(await http.get("/n", params={"site": key}, headers={"origin": ORIGIN}))
    assert [a.status_code for a in answers] == [200, 200, 429, 200]
    assert int(answers[2].headers["retry-after"]) >= 1
    assert answers[2].json()["error"]["code"] == "rate_limited"
