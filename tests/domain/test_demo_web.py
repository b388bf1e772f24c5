"""The demo website's generated traffic: every way in, real visit rules, credit as /e gives it."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from firstmark.domain import demo_web
from firstmark.domain.channels import AI_ASSISTANTS, DIRECT, PAID_SEARCH

DAYS = [date(2026, 9, 1) + timedelta(days=d) for d in range(14)]


def test_the_site_is_deterministic_and_has_every_way_in() -> None:
    first = list(demo_web.site_days(3, DAYS))
    again = list(demo_web.site_days(3, DAYS))
    assert [len(d.events) for d in first] == [len(d.events) for d in again]
    assert first[5].visits[7] == again[5].visits[7]
    humans = [v for d in first for v in d.visits if not v.is_bot]
    channels = Counter(v.channel for v in humans)
    assert set(channels) == {
        "Organic Search", "Paid Search", "Paid Social", "Organic Social", "Email",
        "AI Assistants", "Referral", "Direct",
    }  # fmt: skip
    assert all(v.site_id == 3 for v in humans)
    # Google Ads clicks without a short link: paid search by their gclid alone.
    gclid = [v for v in humans if v.click_ids == "gclid" and v.campaign is None]
    assert gclid and all(v.channel == PAID_SEARCH and v.link_id is None for v in gclid)
    assert {v.source for v in gclid} == {"google"}
    # Crawlers are there, kept apart.
    assert any(v.is_bot for d in first for v in d.visits)
    # Weekends are quieter.
    sizes = {day: len(d.visits) for day, d in zip(DAYS, first, strict=True)}
    weekdays = [n for day, n in sizes.items() if day.weekday() < 5]
    weekends = [n for day, n in sizes.items() if day.weekday() >= 5]
    assert sum(weekends) / len(weekends) < 0.85 * sum(weekdays) / len(weekdays)


def test_events_name_their_visit_and_consent_decides_the_identifiers() -> None:
    [day] = list(demo_web.site_days(1, DAYS[:1]))
    by_visit = {(v.key, v.started): v for v in day.visits}
    pageviews = Counter((e.visit_key, e.visit_started) for e in day.events if e.kind == "pageview")
    for key, visit in by_visit.items():
        assert pageviews[key] == visit.pageviews
    for event in day.events:
        assert (event.visitor_id is None) == (event.session_id is None) == (event.consent == "none")
    assert all(t.visitor_id is not None for t in day.touches)


def test_goals_are_credited_as_the_event_path_credits_them() -> None:
    days = list(demo_web.site_days(1, DAYS))
    wins = [w for d in days for w in d.wins]
    assert {w.goal for w in wins} == {"purchase", "newsletter-signup"}
    for day in days:
        for win in day.wins:
            event = day.events[win.event]
            assert event.name == win.goal and event.value == win.value
            assert win.visit.conversions == 1
            assert (win.touches is None) == (event.visitor_id is None)
    # Consented visitors come back on another day, often direct, and buy then.
    returned = [
        w for w in wins
        if w.touches and w.visit.channel == DIRECT and any(not t.direct for t in w.touches)
    ]  # fmt: skip
    assert returned
    assert any(w.visit.channel == AI_ASSISTANTS and w.goal == "purchase" for w in wins)


def test_nothing_is_made_after_now() -> None:
    now = (DAYS[-1] - date(1970, 1, 1)).days * 86400 + 12 * 3600.0
    days = list(demo_web.site_days(1, DAYS, until=now))
    assert max(e.ts for d in days for e in d.events) <= now
    assert max(v.last_ts for d in days for v in d.visits) <= now
