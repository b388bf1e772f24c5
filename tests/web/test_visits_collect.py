"""Visits built on write from what POST /e receives: one visit per browsing session, the
entry's channel, bots kept apart, touches from visit entries, conversions on the visit."""

from __future__ import annotations

from typing import Any

import httpx
from test_collect import GRANTED, UA, make_site, post_event

from firstmark.store import Store

BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


async def visits_of(app: Any, store: Store, key: str) -> list[Any]:
    await app.state.runtime.event_writer.drain()
    site = await store.site_by_key(key)
    assert site is not None and site.id is not None
    return sorted(await store.list_visits(site.id), key=lambda v: v.started)


async def test_pageviews_become_visits_with_their_entry_channel(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key = await make_site(client)
    page = "https://shop.example"
    for body in (
        {"site": key, "url": f"{page}/", "referrer": "https://chatgpt.com/c/abc"},
        {"site": key, "url": f"{page}/pricing"},
        {"site": key, "url": f"{page}/pay", "referrer": "https://checkout.stripe.com/x"},
        {"site": key, "type": "event", "name": "signup", "url": f"{page}/pay"},
    ):
        assert (await post_event(anon, body)).status_code == 202
    # Another visitor (another address): a Google Ads click without a short link.
    other = {"x-forwarded-for": "198.51.100.9"}
    ad = {"site": key, "url": f"{page}/shoes", "landing": {"gclid": "abc123"}}
    assert (await post_event(anon, ad, **other)).status_code == 202
    [visit] = [v for v in await visits_of(app, store, key) if v.channel == "AI Assistants"]
    assert (visit.source, visit.medium, visit.referrer_host) == (
        "chatgpt.com", "referral", "chatgpt.com",
    )  # fmt: skip
    assert (visit.entry_path, visit.exit_path, visit.pageviews, visit.events) == (
        "/", "/pay", 3, 1,
    )  # fmt: skip
    assert visit.device_type == "desktop" and visit.browser == "Chrome" and visit.os == "Windows"
    assert visit.visitor_id is None and visit.key.startswith("h:")
    assert not visit.bounce


async def test_bots_are_kept_apart(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key = await make_site(client)
    body = {"site": key, "url": "https://shop.example/"}
    assert (await post_event(anon, body, **{"user-agent": BOT})).status_code == 202
    [visit] = await visits_of(app, store, key)
    assert visit.is_bot


async def test_consented_visits_key_by_session_and_make_touches(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key = await make_site(client)
    base = {"site": key, "vid": "visitor-123456", "consent": GRANTED}
    first = {**base, "sid": "session-aaaaaa", "url": "https://shop.example/",
             "referrer": "https://www.perplexity.ai/search"}  # fmt: skip
    second = {**base, "sid": "session-bbbbbb", "url": "https://shop.example/again"}
    for body in (first, second):
        assert (await post_event(anon, body)).status_code == 202
    visits = await visits_of(app, store, key)
    assert [(v.key, v.channel, v.visitor_id) for v in visits] == [
        ("s:session-aaaaaa", "AI Assistants", "visitor-123456"),
        ("s:session-bbbbbb", "Direct", "visitor-123456"),
    ]
    touches = await store.touches_for("visitor-123456", None, 0, 2e9)
    assert [(t.utm_source, t.direct) for t in touches] == [("perplexity.ai", False), (None, True)]


async def test_a_goal_reached_marks_the_visit_converted(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key = await make_site(client)
    goal = await client.post("/api/v1/goals", json={"name": "purchase", "event_name": "purchase"})
    assert goal.status_code == 201, goal.text
    page = {"site": key, "url": "https://shop.example/", "referrer": "https://chatgpt.com/"}
    buy = {"site": key, "type": "conversion", "name": "purchase", "value": 40, "currency": "EUR",
           "url": "https://shop.example/thanks", "event_id": "order-1"}  # fmt: skip
    for body in (page, buy):
        assert (await post_event(anon, body, **{"user-agent": UA})).status_code == 202
    [visit] = await visits_of(app, store, key)
    assert (visit.conversions, visit.revenue) == (1, 40.0)
    # Without consent the conversion is credited to its own visit's entry.
    [conv], _ = await store.list_conversions(None, 10, 0)
    assert (conv.utm_source, conv.utm_medium) == ("chatgpt.com", "referral")
