"""The demo dataset: the same for a seed, inside its 90 days, shaped like real traffic."""

from __future__ import annotations

from collections import Counter
from datetime import date

from firstmark.domain import demo

TODAY = date(2026, 11, 25)


def test_demo_is_deterministic_and_inside_its_days() -> None:
    plan = demo.plan(TODAY)
    ids = list(range(1, len(plan.links) + 1))
    first = [h for day in demo.hits(plan, ids) for h in day]
    again = [h for day in demo.hits(plan, ids) for h in day]
    assert first == again and len(first) > 10_000
    start = (plan.days[0] - date(1970, 1, 1)).days * demo.DAY
    end = (TODAY - date(1970, 1, 1)).days * demo.DAY + demo.DAY
    assert all(start <= h.ts < end for h in first)
    kinds = Counter((h.link_id, h.kind) for h in first)
    qr_ids = {i for i, link in zip(ids, plan.links, strict=True) if link.kind == "qr"}
    assert all(kind == "scan" for (link_id, kind) in kinds if link_id in qr_ids)
    bots = [h for h in first if h.is_bot]
    assert bots and all(h.bot_reason for h in bots)


def test_weekends_are_quieter_and_flights_end() -> None:
    plan = demo.plan(TODAY)
    ids = list(range(1, len(plan.links) + 1))
    per_day = {d: len(batch) for d, batch in zip(plan.days, demo.hits(plan, ids), strict=True)}
    weekdays = [n for d, n in per_day.items() if d.weekday() < 5]
    weekends = [n for d, n in per_day.items() if d.weekday() >= 5]
    assert sum(weekends) / len(weekends) < sum(weekdays) / len(weekdays)
    costs = demo.costs(plan)
    assert {c.campaign for c in costs if c.day == plan.days[-1]} == {"brand", "retargeting"}
    journeys = demo.journeys(plan)
    assert journeys and all(j.touches for j in journeys)
    assert {j.goal for j in journeys} == {"purchase", "newsletter-signup"}


def test_calls_come_every_day_to_the_poster_while_it_hangs_and_to_the_pool() -> None:
    plan = demo.plan(TODAY)
    found = demo.calls(plan)
    assert found == demo.calls(plan) and 300 < len(found) < 1_000
    start = (plan.days[0] - date(1970, 1, 1)).days * demo.DAY
    poster = demo.CHANNELS[demo.POSTER]
    assert poster.placement is not None  # the static number is printed on a QR placement
    on_poster = [c for c in found if c.number == 0]
    assert on_poster and all(c.channel is None for c in on_poster)
    first, last = start + poster.starts * demo.DAY, start + poster.ends * demo.DAY
    assert all(first <= c.ts < last for c in on_poster)
    pool = [c for c in found if c.number > 0]
    assert {c.number for c in pool} == set(range(1, len(demo.POOL_NUMBERS) + 1))
    assert {c.channel for c in pool} >= {None, 0}  # direct visitors and brand search
    assert all(not demo.CHANNELS[c.channel].qr for c in pool if c.channel is not None)
    completed = [c for c in found if c.status == "completed"]
    assert all(c.talk_s for c in completed)
    assert 0.3 < sum(c.talk_s >= 60 for c in completed if c.talk_s) / len(completed) < 0.8
    assert {c.status for c in found} == {"completed", "no-answer", "busy", "canceled"}
