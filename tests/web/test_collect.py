"""POST /e and GET /fm.js through the app: consent on the server, strict input, nothing stored
on refusal."""

from __future__ import annotations

import gzip
import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.keys import new_key
from firstmark.store import Store

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"  # noqa: E501
GRANTED = {"analytics_storage": "granted", "ad_storage": "granted", "ad_user_data": "granted"}


async def make_site(client: httpx.AsyncClient, *hosts: str) -> str:
    answer = await client.post("/api/v1/sites", json={"hosts": list(hosts or ["shop.example"])})
    assert answer.status_code == 201, answer.text
    key: str = answer.json()["key"]
    return key


async def post_event(
    anon: httpx.AsyncClient, body: Any, *, origin: str = "https://shop.example", **headers: str
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await anon.post(
        "/e",
        content=content,
        headers={"content-type": "text/plain;charset=UTF-8", "origin": origin, "user-agent": UA,
                 **headers},
    )  # fmt: skip


def event(key: str, **fields: Any) -> dict[str, Any]:
    return {"site": key, "type": "pageview", "url": "https://shop.example/p?email=a@b.c", **fields}


async def stored(app: Any, store: Store, key: str) -> list[Any]:
    await app.state.runtime.event_writer.drain()
    site = await store.site_by_key(key)
    assert site is not None and site.id is not None
    return await store.list_events(site.id)


async def test_a_pageview_without_consent_is_stored_without_identifiers(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key = await make_site(client)
    body = event(
        key, vid="visitor-123456", sid="session-123456", referrer="https://news.example/a?b"
    )
    answer = await post_event(anon, body)
    assert answer.status_code == 202 and answer.content == b""
    assert answer.headers["access-control-allow-origin"] == "https://shop.example"
    assert "set-cookie" not in answer.headers
    [row] = await stored(app, store, key)
    assert (row.kind, row.name, row.path, row.referrer_host) == (
        "pageview",
        "pageview",
        "/p",
        "news.example",
    )
    assert row.visitor_id is None and row.session_id is None and row.consent == "none"
    assert row.device_type == "desktop" and len(row.visitor_day_hash) == 24


async def test_analytics_consent_keeps_the_visitor_id(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key = await make_site(client)
    body = event(key, vid="visitor-123456", sid="session-123456", consent=GRANTED)
    assert (await post_event(anon, body)).status_code == 202
    [row] = await stored(app, store, key)
    assert (row.visitor_id, row.session_id, row.consent) == (
        "visitor-123456",
        "session-123456",
        "full",
    )


@pytest.mark.parametrize(
    ("headers", "gpc_field"), [({"sec-gpc": "1"}, False), ({}, True)], ids=["header", "script"]
)
async def test_gpc_forbids_identifiers_whatever_the_page_says(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store,
    headers: dict[str, str], gpc_field: bool,
) -> None:  # fmt: skip
    key = await make_site(client)
    signer = ClickSigner("test-secret")
    landing = {"utm_source": "news", "fm_click": signer.token(1, 1e9), "gclid": "G-1"}
    body = event(key, vid="visitor-123456", consent=GRANTED, gpc=gpc_field, landing=landing)
    assert (await post_event(anon, body, **headers)).status_code == 202
    [row] = await stored(app, store, key)
    assert row.visitor_id is None and row.consent == "gpc" and row.utm_source == "news"
    assert await store.touches_for("visitor-123456", None, 0, 2e9) == []


async def test_a_landing_with_consent_records_a_touch_and_click_ids_only_with_ads(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key = await make_site(client)
    created = await client.post("/api/v1/links", json={"destination": "https://shop.example/"})
    link_id = created.json()["id"]
    token = ClickSigner("test-secret").token(link_id, 1.8e9)
    landing = {
        "utm_source": "News Letter",
        "utm_medium": "email",
        "fm_click": token,
        "gclid": "G-1",
    }
    analytics_only = {"analytics_storage": "granted", "ad_storage": "denied"}
    await post_event(
        anon, event(key, vid="visitor-aaaaaa", consent=analytics_only, landing=landing)
    )
    await post_event(anon, event(key, vid="visitor-bbbbbb", consent=GRANTED, landing=landing))
    # The signature's last two characters changed (the nonce is random: they may be "00").
    tail = "11" if token.endswith("00") else "00"
    forged = {**landing, "fm_click": token[:-2] + tail}
    await post_event(anon, event(key, vid="visitor-cccccc", consent=GRANTED, landing=forged))
    rows = await stored(app, store, key)
    assert {r.link_id for r in rows} == {link_id, None}
    [a] = await store.touches_for("visitor-aaaaaa", None, 0, 2e9)
    [b] = await store.touches_for("visitor-bbbbbb", None, 0, 2e9)
    [c] = await store.touches_for("visitor-cccccc", None, 0, 2e9)
    assert (a.link_id, a.click_token, a.utm_source, a.click_ids) == (
        link_id,
        token,
        "news-letter",
        {},
    )
    assert b.click_ids == {"gclid": "G-1"}
    assert (c.link_id, c.click_token) == (None, None)  # a forged token ties nothing


async def test_events_reaching_a_goal_become_conversions_once(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key = await make_site(client)
    goal = {"name": "signup", "kind": "micro", "default_value": 5, "currency": "EUR"}
    assert (await client.post("/api/v1/goals", json=goal)).status_code == 201
    body = event(key, type="event", name="signup", event_id="evt-1", consent=GRANTED,
                 vid="visitor-123456")  # fmt: skip
    for _ in range(2):
        assert (await post_event(anon, body)).status_code == 202
    assert (await post_event(anon, event(key, type="event", name="other"))).status_code == 202
    await stored(app, store, key)
    listed = (await client.get("/api/v1/conversions")).json()
    [conv] = listed["items"]
    assert (conv["event_id"], conv["goal"], conv["source"], conv["value"], conv["currency"]) == (
        "evt-1", "signup", "web", 5.0, "EUR",
    )  # fmt: skip
    assert conv["visitor_id"] == "visitor-123456"
    metrics = (await anon.get("/metrics")).text
    assert "firstmark_events_written_total 3" in metrics
    assert "firstmark_web_conversions_total 1" in metrics


def too_many_props() -> dict[str, int]:
    return {f"k{i}": i for i in range(26)}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, None),
        (b"[" * 8000, 400, None),
        (b"", 400, None),
        (b"x" * 9000, 413, None),
        ({"site": "K", "url": "https://shop.example/", "extra": 1}, 422, "extra"),
        ({"site": "K", "type": "click", "url": "https://shop.example/"}, 422, "type"),
        ({"site": "K", "type": "event", "url": "https://shop.example/"}, 422, "name"),
        ({"site": "K", "type": "event", "name": "x" * 65, "url": "https://s.example/"}, 422,
         "name"),
        ({"site": "K", "url": "https://shop.example/", "props": too_many_props()}, 422, "props"),
        ({"site": "K", "url": "https://shop.example/", "props": {"a": [1]}}, 422, "props.a"),
        ({"site": "K", "url": "javascript:alert(1)"}, 422, "url"),
        ({"site": "K", "url": "https://shop.example/", "value": "9"}, 422, "value"),
        ({"site": "K", "url": "https://shop.example/", "currency": "EURO"}, 422, "currency"),
        ({"site": "K", "url": "https://shop.example/", "consent": {"ad_storage": "yes"}}, 422,
         "consent.ad_storage"),
        ({"site": "K", "url": "https://shop.example/", "tcf": "not-a-tc-string"}, 422, "tcf"),
        ({"site": "K", "url": "https://shop.example/", "gpc": "1"}, 422, "gpc"),
        ({"site": "K", "url": "https://shop.example/", "landing": {"email": "a@b.c"}}, 422,
         "landing.email"),
        ({"site": "K", "url": "https://shop.example/", "vid": "short"}, 422, "vid"),
        ({"site": "fms_AAAAAAAAAAAAAAAA", "url": "https://shop.example/"}, 403, "site"),
        ({"site": "K", "url": "https://evil.example/"}, 403, "url"),
    ],
)  # fmt: skip
async def test_bad_events_are_refused_naming_the_field_and_nothing_is_stored(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store,
    body: Any, status: int, field: str | None,
) -> None:  # fmt: skip
    key = await make_site(client)
    if isinstance(body, dict) and body.get("site") == "K":
        body = {**body, "site": key}
    answer = await post_event(anon, body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error.get("field") == field and error["code"]
    assert "a@b.c" not in answer.text and "evil" not in answer.text  # input is never echoed
    await app.state.runtime.event_writer.drain()
    assert await store.count_events() == 0


async def test_an_origin_that_is_not_a_site_host_is_refused(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key = await make_site(client)
    answer = await post_event(anon, event(key), origin="https://evil.example")
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "unknown_host"
    assert (await post_event(anon, event(key), origin="")).status_code == 202
    assert len(await stored(app, store, key)) == 1


async def test_the_rate_limit_is_per_network(settings: Settings, store: Store) -> None:
    app = create_app(replace(settings, event_rate_limit=0.001, event_rate_burst=3), store)
    app.state.runtime.event_writer.start()
    try:
        admin = httpx.ASGITransport(app=app, client=("198.51.100.1", 1))
        shown, key_row = new_key(("admin",))
        await store.insert_api_key(key_row)
        auth = {"authorization": f"Bearer {shown}"}
        async with httpx.AsyncClient(
            transport=admin, base_url="http://fm.test", headers=auth
        ) as client:
            key = await make_site(client)
        statuses: dict[str, list[int]] = {}
        for ip in ("203.0.113.7", "203.0.113.99", "203.0.114.1"):
            transport = httpx.ASGITransport(app=app, client=(ip, 5))
            async with httpx.AsyncClient(transport=transport, base_url="http://fm.test") as visitor:
                statuses[ip] = [
                    (await post_event(visitor, event(key))).status_code for _ in range(2)
                ]
        # 203.0.113.7 and .99 share a /24 and its burst of 3; 203.0.114.1 has its own.
        assert statuses == {
            "203.0.113.7": [202, 202], "203.0.113.99": [202, 429], "203.0.114.1": [202, 202],
        }  # fmt: skip
        await app.state.runtime.event_writer.drain()
        assert await store.count_events() == 5
    finally:
        await app.state.runtime.event_writer.stop()


@pytest.mark.parametrize(("path", "most"), [("/fm.js", 2048), ("/fm-phone.js", 1536)])
async def test_the_scripts_are_small_and_served_gzipped(
    anon: httpx.AsyncClient, path: str, most: int
) -> None:
    raw = await anon.get(path, headers={"accept-encoding": "identity"})
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("text/javascript")
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert raw.headers["cache-control"] == "public, max-age=3600"
    assert "content-encoding" not in raw.headers
    zipped = await anon.get(path, headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) <= most
    assert len(gzip.compress(raw.content, 9)) <= most
    source = (Path(__file__).parents[2] / "static" / path.lstrip("/")).read_bytes()
    assert raw.content == source
    assert "set-cookie" not in zipped.headers


async def test_preflight_is_answered_without_reading_anything(anon: httpx.AsyncClient) -> None:
    answer = await anon.options("/e", headers={"origin": "https://shop.example"})
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == "https://shop.example"


async def test_no_address_user_agent_or_query_reaches_the_database(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store, settings: Settings
) -> None:
    key = await make_site(client)
    body = event(key, consent=GRANTED, vid="visitor-123456", url="https://shop.example/p?email=a@b.c&tel=4791234567",
                 referrer="https://news.example/read?who=a@b.c", props={"plan": "pro"})  # fmt: skip
    assert (await post_event(anon, body)).status_code == 202
    await stored(app, store, key)
    found = scan(
        Path(settings.database_url.removeprefix("sqlite:///")),
        ["203.0.113.7", UA, "Chrome/124", "a@b.c", "4791234567"],
    )
    assert found == []


def scan(db: Path, needles: list[str]) -> list[str]:
    """Every (table.column, needle) where a stored value contains a needle."""
    hits = []
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")]
            for column in columns:
                for (value,) in conn.execute(f"SELECT {column} FROM {table}"):
                    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    hits += [f"{table}.{column}: {n}" for n in needles if n in text]
    conn.close()
    return hits


@pytest.mark.parametrize(("honour", "label"), [(False, "full"), (True, "gpc")])
async def test_dnt_counts_as_gpc_only_when_the_operator_opts_in(
    settings: Settings, store: Store, honour: bool, label: str
) -> None:
    app = create_app(replace(settings, honour_dnt=honour), store)
    app.state.runtime.event_writer.start()
    try:
        shown, key_row = new_key(("admin",))
        await store.insert_api_key(key_row)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5))
        auth = {"authorization": f"Bearer {shown}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://fm.test", headers=auth
        ) as client:
            key = await make_site(client)
            body = event(key, consent=GRANTED, vid="visitor-123456")
            assert (await post_event(client, body, dnt="1")).status_code == 202
        [row] = await stored(app, store, key)
        assert row.consent == label and (row.visitor_id is None) == honour
    finally:
        await app.state.runtime.event_writer.stop()
