"""FIRSTMARK_PRIVACY_MODE=exempt: each effect of the audience-measurement preset, against the
same requests in standard mode."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from test_collect import GRANTED, make_site, post_event

from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.domain.keys import new_key
from firstmark.services import retention
from firstmark.store import Store

BASE_URL = "http://fm.test"
META: dict[str, Any] = {
    "platform": "meta",
    "name": "Meta EU",
    "credentials": {"pixel_id": "1234567890", "access_token": "EAAB" + "x" * 40},
    "goals": {"purchase": "Purchase"},
}


@dataclasses.dataclass
class Site:
    app: Any
    client: httpx.AsyncClient
    anon: httpx.AsyncClient
    store: Store
    exempt: bool


@pytest.fixture(params=["standard", "exempt"])
async def site(
    request: pytest.FixtureRequest, settings: Settings, store: Store
) -> AsyncIterator[Site]:
    mode = dataclasses.replace(settings, privacy_mode=request.param)
    app = create_app(mode, store)
    app.state.runtime.writer.start()
    app.state.runtime.event_writer.start()
    shown, key = new_key(("admin",))
    await store.insert_api_key(key)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    headers = {"authorization": f"Bearer {shown}"}
    try:
        async with (
            httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as client,
            httpx.AsyncClient(transport=transport, base_url=BASE_URL) as anon,
        ):
            yield Site(app, client, anon, store, request.param == "exempt")
    finally:
        await app.state.runtime.writer.stop()
        await app.state.runtime.event_writer.stop()


async def rows(store: Store, sql: str) -> list[Any]:
    return list(await cast(Any, store).db.fetch(sql))


async def test_no_visitor_id_session_or_click_ids_are_kept_whatever_the_page_grants(
    site: Site,
) -> None:
    key = await make_site(site.client)
    link = await site.client.post("/api/v1/links", json={"destination": "https://shop.example/"})
    assert link.status_code == 201, link.text
    clicked = await site.anon.get(f"/{link.json()['code']}")
    location = clicked.headers["location"]
    # No click token rides the redirect to link the click to the visit.
    assert ("fm_click=" in location) is not site.exempt
    token = location.partition("fm_click=")[2] or "none"
    body = {"site": key, "vid": "visitor-123456", "sid": "session-aaaaaa", "consent": GRANTED,
            "url": "https://shop.example/", "landing": {"gclid": "abc123", "fm_click": token,
                                                       "utm_source": "google"}}  # fmt: skip
    assert (await post_event(site.anon, body)).status_code == 202
    await site.app.state.runtime.event_writer.drain()
    [(visitor_id, session_id)] = await rows(site.store, "SELECT visitor_id, session_id FROM events")
    [(visit_key, visit_visitor)] = await rows(site.store, "SELECT key, visitor_id FROM visits")
    touches = await rows(site.store, "SELECT visitor_id, click_token, click_ids FROM touches")
    stored = [*await rows(site.store, "SELECT * FROM events"), *touches,
              *await rows(site.store, "SELECT * FROM visits")]  # fmt: skip
    # The visit keeps the kind of its entry ("gclid": paid search), never the id itself.
    click_id_kept = any("abc123" in str(row) for row in stored)
    if site.exempt:
        assert (visitor_id, session_id, visit_visitor) == (None, None, None)
        assert visit_key.startswith("h:") and touches == [] and not click_id_kept
    else:
        assert (visitor_id, session_id) == ("visitor-123456", "session-aaaaaa")
        assert visit_key == "s:session-aaaaaa" and touches and click_id_kept


async def test_an_opt_out_is_not_measured_at_all(site: Site) -> None:
    key = await make_site(site.client)
    body = {"site": key, "url": "https://shop.example/"}
    assert (await post_event(site.anon, body, **{"sec-gpc": "1"})).status_code == 202
    assert (await post_event(site.anon, {**body, "gpc": True})).status_code == 202
    assert (await post_event(site.anon, body, dnt="1")).status_code == 202
    await site.app.state.runtime.event_writer.drain()
    stored = await rows(site.store, "SELECT count(*) FROM events")
    # Standard mode counts GPC visitors without identifiers (and ignores DNT by default).
    assert stored == [(0,)] if site.exempt else stored == [(3,)]


async def test_conversions_are_counted_but_never_forwarded_nor_linked(site: Site) -> None:
    assert (await site.client.post("/api/v1/goals", json={"name": "purchase"})).status_code == 201
    assert (await site.client.post("/api/v1/destinations", json=META)).status_code == 201
    answer = await site.client.post(
        "/api/v1/conversions",
        json={"event_id": "o1", "goal": "purchase", "value": 10, "currency": "EUR",
              "visitor_id": "visitor-123456", "user_data": {"email": "jane@example.com"},
              "click_ids": {"gclid": "abc123"},
              "consent": {"ad_user_data": "granted", "analytics_storage": "granted"}},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    [(visitor_id, user_data, value)] = await rows(
        site.store, "SELECT visitor_id, user_data, value FROM conversions"
    )
    outbox = await site.store.outbox_counts()
    assert value == 10
    if site.exempt:
        assert (visitor_id, user_data) == (None, "{}") and sum(outbox.values()) == 0
    else:
        assert visitor_id == "visitor-123456" and user_data != "{}" and sum(outbox.values()) == 1


async def test_every_retention_is_capped_at_13_months(site: Site, settings: Settings) -> None:
    mode = "exempt" if site.exempt else "standard"
    long = dataclasses.replace(settings, privacy_mode=mode, retention_hits_days=800)
    summary = await retention.summary(site.store, long)
    days = {name: int(cast(int, item["days"])) for name, item in summary.items()}
    if site.exempt:
        assert days["hits"] == days["credits"] == 395 and max(days.values()) == 395
    else:
        assert days["hits"] == 800 and days["credits"] == 0


async def test_a_dni_lease_keeps_the_channel_but_no_visitor(site: Site) -> None:
    created = await site.client.post("/api/v1/sites", json={"hosts": ["shop.example"]})
    key = created.json()["key"]
    body = {"number": "+14155552000", "provider": "twilio", "forward_to": "+14155550199",
            "pool": "web"}  # fmt: skip
    number = await site.client.post("/api/v1/numbers", json=body)
    assert number.status_code == 201, number.text
    pool = await site.client.put("/api/v1/pools/web", json={"site": key})
    assert pool.status_code == 200, pool.text
    params = {"site": key, "utm_source": "Google", "utm_medium": "cpc", "gclid": "G-123",
              "vid": "visitor-123456", **GRANTED}  # fmt: skip
    got = await site.anon.get("/n", params=params, headers={"origin": "https://shop.example"})
    assert got.status_code == 200, got.text
    lease = await site.store.lease_at(number.json()["id"], time.time())
    assert lease is not None and lease.utm_source == "google"
    if site.exempt:
        assert lease.visitor_id is None and dict(lease.click_ids) == {}
        assert not lease.consent.forwarding
    else:
        assert lease.visitor_id == "visitor-123456" and dict(lease.click_ids) == {"gclid": "G-123"}
