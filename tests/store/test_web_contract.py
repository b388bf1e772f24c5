"""Store contract for web reports (every engine): breakdowns, pages and event properties
joined to their visits, filters, the series by hour and day, realtime."""

from __future__ import annotations

from dataclasses import replace

from firstmark.domain.events import Event
from firstmark.domain.goals import Goal
from firstmark.domain.visits import Visit
from firstmark.store.protocol import Store

T0 = 1_764_000_000.0  # 2025-11-24 16:00 UTC


def visit(key: str, **fields: object) -> Visit:
    values: dict[str, object] = {
        "site_id": 1, "key": key, "started": T0, "last_ts": T0 + 60, "visitor_day_hash": key,
        "entry_path": "/", "exit_path": "/", "pageviews": 1, "events": 0,
        "source": "(direct)", "medium": "(none)", "channel": "Direct",
    }  # fmt: skip
    values.update(fields)
    return Visit(**values)  # type: ignore[arg-type]


def event(v: Visit, path: str, kind: str = "pageview", **fields: object) -> Event:
    values: dict[str, object] = {
        "site_id": 1, "ts": v.started, "kind": kind, "name": kind, "path": path,
        "visitor_day_hash": v.visitor_day_hash, "consent": "none", "visit_key": v.key,
        "visit_started": v.started,
    }  # fmt: skip
    values.update(fields)
    return Event(**values)  # type: ignore[arg-type]


async def test_web_reports(any_store: Store) -> None:
    await any_store.insert_goal(Goal("signup", "macro", "signup"))
    ai = visit("h:a", channel="AI Assistants", source="chatgpt.com", medium="referral",
               pageviews=2, events=1, conversions=1, revenue=9.5, exit_path="/pricing")  # fmt: skip
    direct = visit("h:b", started=T0 + 7200, last_ts=T0 + 7200, country="DE")
    bot = visit("h:c", is_bot=True)
    events = [
        event(ai, "/"), event(ai, "/pricing", ts=T0 + 30),
        event(ai, "/pricing", "event", name="signup", props='{"plan":"pro"}', ts=T0 + 60,
              value=9.5),
        event(direct, "/"), event(bot, "/", is_bot=True),
    ]  # fmt: skip
    await any_store.write_events(events, [], [], [], [ai, direct, bot])
    start, end = T0 - 3600, T0 + 86400
    channels = {s.key: s for s in await any_store.web_report("channels", 1, {}, start, end)}
    assert set(channels) == {"AI Assistants", "Direct"}
    got = channels["AI Assistants"]
    assert (got.visitors, got.visits, got.pageviews, got.bounces, got.conversions) == (
        1, 1, 2, 0, 1,
    )  # fmt: skip
    assert (got.duration_s, got.converters, got.revenue) == (60.0, 1, 9.5)
    pages = {s.key: s for s in await any_store.web_report("pages", 1, {}, start, end)}
    assert {k: (s.visitors, s.pageviews) for k, s in pages.items()} == {
        "/": (2, 2), "/pricing": (1, 1),
    }  # fmt: skip
    only_de = await any_store.web_report("pages", 1, {"country": "DE"}, start, end)
    assert [(s.key, s.visits) for s in only_de] == [("/", 1)]
    viewed = await any_store.web_totals(1, {"page": "/pricing"}, start, end)
    assert [s.visitors for s in viewed] == [1]
    reached = await any_store.web_totals(1, {"goal": "signup", "channel": "Direct"}, start, end)
    assert [s.visitors for s in reached] == [0]
    goals = await any_store.web_report("goals", 1, {}, start, end)
    assert [(s.key, s.conversions, s.revenue) for s in goals] == [("signup", 1, 9.5)]
    plans = await any_store.web_report("events", 1, {}, start, end, "signup", "plan")
    assert [(s.key, s.events) for s in plans] == [("pro", 1)]
    named = await any_store.web_report("events", 1, {}, start, end)
    assert [(s.key, s.events) for s in named] == [("signup", 1)]
    hours = await any_store.web_totals(1, {}, start, end, "hour")
    assert sorted((int(s.key), s.visits) for s in hours) == [
        (int(T0 // 3600), 1), (int(T0 // 3600) + 2, 1),
    ]  # fmt: skip
    days = await any_store.web_totals(1, {}, start, end, "day")
    assert [(int(s.key), s.visitors) for s in days] == [(int(T0 // 86400), 2)]
    assert await any_store.web_realtime(1, {}, T0 + 7000) == 1
    assert await any_store.web_realtime(1, {"channel": "AI Assistants"}, T0 + 7000) == 0
    late = replace(direct, last_ts=T0 + 9000)
    await any_store.write_events([], [], [], [], [late])
    assert await any_store.web_realtime(1, {}, T0 + 8000) == 1


async def test_funnels_and_their_events(any_store: Store) -> None:
    from firstmark.domain.funnels import Funnel, Step

    made = await any_store.insert_funnel(
        Funnel(1, "f", (Step("page", "/a_b/*"), Step("event", "signup")), "days", 3)
    )
    assert made.id is not None and made.days == 3 and made.created_at is not None
    assert await any_store.get_funnel(made.id) == made
    assert await any_store.list_funnels(1) == [made] and await any_store.list_funnels(2) == []
    one = visit("s:one", visitor_id="vid-1234567")
    events = [
        event(one, "/a_b/c"),
        event(one, "/aXb/c", ts=T0 + 1),  # _ is no wildcard
        event(one, "/x", "event", name="signup", ts=T0 + 2),
        event(one, "/x", "event", name="other", ts=T0 + 3),
    ]
    await any_store.write_events(events, [], [], [], [one])
    hits = await any_store.funnel_hits(1, made.steps, {}, T0 - 10, T0 + 10, 3)
    assert [(h.path, h.name, h.consented, h.visitor) for h in hits] == [
        ("/a_b/c", "pageview", True, "vid-1234567"), ("/x", "signup", True, "vid-1234567"),
    ]  # fmt: skip
    assert await any_store.funnel_hits(1, made.steps, {"country": "FR"}, T0 - 10, T0 + 10) == []
