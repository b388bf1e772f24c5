"""Funnel rollups answer exactly what the events answer (every engine): visitors per step of a
funnel within one visit, over ranges that start and end on any day, for consented visitors
seen on several days, after late events and visits, for a funnel made before or after the
visits it counts."""

from __future__ import annotations

import random
from dataclasses import replace

from firstmark.domain.events import Event
from firstmark.domain.funnels import Funnel, Step, report
from firstmark.domain.sites import Site, new_key
from firstmark.domain.visits import Visit
from firstmark.store.protocol import Store

DAY = 86_400
D0 = 20_400 * DAY  # a UTC midnight
STEPS = (Step("page", "/"), Step("page", "/a*"), Step("event", "signup"), Step("page", "/c"))
RANGES = [(0, 6), (0, 1), (2, 5), (5, 7), (-2, 2), (1, 2), (3, 9)]


def visits_and_events(
    rng: random.Random, site: int, count: int, days: int, first: int = 0
) -> tuple[list[Visit], list[Event]]:
    visits, events = [], []
    for i in range(first, first + count):
        day = rng.randrange(days)
        started = D0 + day * DAY + rng.choice([0.0, DAY - 0.5, rng.random() * DAY])
        person = rng.randrange(10)
        consented = rng.random() < 0.6
        hashed = f"{person:04d}-{day}"  # a daily hash: never the same on two days
        bot = rng.random() < 0.1
        visit = Visit(
            site_id=site, key=f"s:{i}" if consented else f"h:{hashed}:{i}", started=started,
            last_ts=started, visitor_day_hash=hashed,
            visitor_id=f"vid-{person:04d}" if consented else None, is_bot=bot, entry_path="/",
            exit_path="/", pageviews=1, events=0, source="(direct)", medium="(none)",
            channel="Direct",
        )  # fmt: skip
        ts = started
        for _ in range(rng.randrange(1, 12)):
            kind, name, path = rng.choice(
                [("pageview", "pageview", p) for p in ("/", "/a", "/ab", "/c", "/x")]
                + [("event", "signup", "/a"), ("event", "other", "/")]
            )
            events.append(
                Event(site_id=site, ts=ts, kind=kind, name=name, path=path,
                      visitor_day_hash=hashed, consent="none", is_bot=bot, visit_key=visit.key,
                      visit_started=started)
            )  # fmt: skip
            ts += rng.choice([0.5, 30.0, 400.0])
        visits.append(replace(visit, last_ts=ts))
    return visits, events


async def check(store: Store, funnel: Funnel) -> None:
    for a, b in RANGES:
        start, end = float(D0 + a * DAY), float(D0 + b * DAY)
        got = await store.funnel_counts(funnel, {}, start, end)
        hits = await store.funnel_hits(funnel.site_id, funnel.steps, {}, start, end)
        want = [r["visitors"] for r in report(funnel, hits)]
        assert got == want, (a, b)


async def test_funnel_rollups_answer_as_the_events_do(any_store: Store) -> None:
    rng = random.Random(9)
    site = await any_store.insert_site(Site("Shop", new_key(), ("shop.example",)))
    assert site.id is not None
    early = await any_store.insert_funnel(Funnel(site.id, "before the visits", STEPS))
    visits, events = visits_and_events(rng, site.id, 400, 6)
    await any_store.write_events(events, [], [], [], visits)
    late = await any_store.insert_funnel(Funnel(site.id, "after", STEPS[:2]))
    await check(any_store, early)
    await check(any_store, late)
    counts = await any_store.funnel_counts(early, {}, D0, D0 + 6 * DAY)
    assert counts is not None and counts[0] > 30 and counts[3] > 0
    # Late visits on earlier days (a consented visitor's earlier day changes whether a later
    # day counts them again), and more steps for visits already counted.
    more_visits, more_events = visits_and_events(rng, site.id, 80, 3, first=1000)
    extra = [
        Event(site_id=site.id, ts=v.last_ts + 1, kind="event", name="signup", path="/a",
              visitor_day_hash=v.visitor_day_hash, consent="none", is_bot=v.is_bot,
              visit_key=v.key, visit_started=v.started)
        for v in visits[:50]
    ]  # fmt: skip
    moved = [replace(v, last_ts=v.last_ts + 1) for v in visits[:50]]
    await any_store.write_events([*more_events, *extra], [], [], [], [*more_visits, *moved])
    await check(any_store, early)
    await check(any_store, late)
    # Visits on the last days only: those days are rebuilt over the kept earlier days.
    last_visits, last_events = visits_and_events(rng, site.id, 60, 2, first=2000)
    last_visits = [
        replace(
            v,
            started=v.started + 4 * DAY,
            last_ts=v.last_ts + 4 * DAY,
            visitor_day_hash=f"{v.visitor_day_hash}+4",
        )
        for v in last_visits
    ]
    last_events = [
        replace(
            e,
            ts=e.ts + 4 * DAY,
            visit_started=(e.visit_started or 0) + 4 * DAY,
            visitor_day_hash=f"{e.visitor_day_hash}+4",
        )
        for e in last_events
    ]
    await any_store.write_events(last_events, [], [], [], last_visits)
    await check(any_store, early)
    await check(any_store, late)


async def test_what_funnel_rollups_leave_to_the_events(any_store: Store) -> None:
    site = await any_store.insert_site(Site("Shop", new_key(), ("shop.example",)))
    assert site.id is not None
    funnel = await any_store.insert_funnel(Funnel(site.id, "f", STEPS))
    days = await any_store.insert_funnel(Funnel(site.id, "d", STEPS, "days", 7))
    day = float(D0)
    assert await any_store.funnel_counts(funnel, {}, day, day + DAY) == [0, 0, 0, 0]
    assert await any_store.funnel_counts(funnel, {}, day + 3600, day + DAY) is None
    assert await any_store.funnel_counts(funnel, {"channel": "Direct"}, day, day + DAY) is None
    assert await any_store.funnel_counts(days, {}, day, day + DAY) is None
