"""The events report's rollups answer exactly what the events answer (every engine): by name,
for one name, and by a property's value (absent included), unfiltered and with one filter,
over ranges that start and end on any day, after late visits, late events and visitors who
consent later; and the rollup refresher keeps read rollups current so reports need not."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import replace
from typing import Any

from test_web_rollup_contract import D0, DAY, make_visits, pageviews

from firstmark.domain.events import Event
from firstmark.domain.visits import Visit
from firstmark.domain.web import Sums
from firstmark.store.protocol import Store
from firstmark.store.rows import eventrollup
from firstmark.store.rows.web import report_query, sums_from_rows

ASKED: list[tuple[str | None, str | None]] = [
    (None, None), ("signup", None), ("signup", "plan"), ("download", "file"),
]  # fmt: skip
FILTERS: list[dict[str, str]] = [{}, {"channel": "Direct"}, {"country": "DE"}]


def custom(visits: list[Visit], rng: random.Random, at_end: bool = False) -> list[Event]:
    """Signups (some without a plan) and downloads sent in some of the visits."""
    out = []
    for v in visits:
        for _ in range(rng.choice([0, 0, 1, 2])):
            name = rng.choice(["signup", "download"])
            props = (
                {"plan": rng.choice(["free", "pro"])} if rng.random() < 0.8 else {"other": "x"}
            ) if name == "signup" else {"file": rng.choice(["a.pdf", "b.zip"])}  # fmt: skip
            out.append(
                Event(site_id=1, ts=v.last_ts if at_end else v.started + 1, kind="event",
                      name=name, path="/", visitor_day_hash=v.visitor_day_hash, consent="none",
                      is_bot=v.is_bot, props=json.dumps(props), visit_key=v.key,
                      visit_started=v.started)
            )  # fmt: skip
    return out


def shown(sums: list[Sums]) -> list[tuple[Any, ...]]:
    return sorted(
        (str(s.key), s.visitors, s.visits, s.pageviews, s.bounces, round(s.duration_s, 6),
         s.conversions, s.converters, round(s.revenue, 6), s.events)
        for s in sums
    )  # fmt: skip


async def from_events(
    store: Store, name: str | None, prop: str | None, f: dict[str, str], start: float, end: float
) -> list[Sums]:
    engine: Any = store
    sql, params = report_query(
        "events", 1, f, start, end, prop_expr=engine.prop_of(prop) if prop else "",
        event_name=name,
    )  # fmt: skip
    return sums_from_rows(await engine.db.fetch(sql, params))


async def check_all(store: Store, ranges: list[tuple[int, int]]) -> int:
    compared = 0
    for a, b in ranges:
        start, end = float(D0 + a * DAY), float(D0 + b * DAY)
        for name, prop in ASKED:
            for f in FILTERS:
                assert eventrollup.key_of(name, prop, f, start, end) is not None
                got = await store.web_report("events", 1, f, start, end, name, prop)
                want = await from_events(store, name, prop, f, start, end)
                assert shown(got) == shown(want), (a, b, name, prop, f)
                compared += bool(want)
    return compared


async def test_event_rollups_answer_as_the_events_do(any_store: Store) -> None:
    rng = random.Random(9)
    first = make_visits(rng, 300, 6)
    await any_store.write_events([*pageviews(first, rng), *custom(first, rng)], [], [], [], first)
    ranges = [(0, 6), (0, 1), (2, 5), (5, 7), (-2, 2)]
    assert await check_all(any_store, ranges) > 40
    # Late visits on earlier days, events sent late in earlier visits (which changes those
    # visits), and consent given mid-visit.
    late = make_visits(rng, 60, 3, first=1000)
    later = [replace(v, last_ts=v.last_ts + 900, events=v.events + 1) for v in first[:60]]
    consenting = [
        replace(v, visitor_id=f"vid-{int(v.visitor_day_hash[:4]):04d}")
        for v in first[60:100]
        if v.visitor_id is None
    ]
    await any_store.write_events(
        [*pageviews(late, rng), *custom(late, rng), *custom(later, rng, at_end=True)],
        [], [], [], [*late, *later, *consenting],
    )  # fmt: skip
    await check_all(any_store, ranges)


async def test_what_the_event_rollups_leave_to_the_events() -> None:
    day = float(D0)
    assert eventrollup.key_of("signup", "plan", {}, day + 60, day + DAY) is None
    assert eventrollup.key_of("signup", "plan", {"page": "/"}, day, day + DAY) is None
    two = {"channel": "Direct", "country": "DE"}
    assert eventrollup.key_of("signup", None, two, day, day + DAY) is None
    assert eventrollup.key_of("signup", "plan", {"device": "mobile"}, day, day + DAY) == (
        "prop/plan/signup|device_type", (("filter", "mobile"),),
    )  # fmt: skip
    assert eventrollup.key_of("signup", None, {}, day, day + DAY) == (
        "event", (("value", "signup"),),
    )  # fmt: skip


async def test_the_refresher_keeps_read_rollups_current(any_store: Store) -> None:
    rng = random.Random(3)
    start, end = float(D0), float(D0 + 4 * DAY)
    first = make_visits(rng, 120, 3)
    await any_store.write_events([*pageviews(first, rng), *custom(first, rng)], [], [], [], first)
    # Reports may find the writer's marks up to an hour old: the refresher has them.
    any_store.rollup_lag_s = 3600
    before = await any_store.web_report("events", 1, {}, start, end, "signup", "plan")
    assert shown(before) == shown(await from_events(any_store, "signup", "plan", {}, start, end))
    channels = await any_store.web_totals(1, {"channel": "Direct"}, start, end)
    more = make_visits(rng, 80, 4, first=500)
    await any_store.write_events([*pageviews(more, rng), *custom(more, rng)], [], [], [], more)
    # Read rollups stay as they were until the refresher's round; a report does not rebuild.
    stale = await any_store.web_report("events", 1, {}, start, end, "signup", "plan")
    assert shown(stale) == shown(before)
    assert await any_store.refresh_rollups() == 2  # events by plan, the Direct channel
    got = await any_store.web_report("events", 1, {}, start, end, "signup", "plan")
    assert shown(got) == shown(await from_events(any_store, "signup", "plan", {}, start, end))
    assert shown(got) != shown(before)
    fresh = await any_store.web_totals(1, {"channel": "Direct"}, start, end)
    assert fresh[0].visits > channels[0].visits
    assert await any_store.refresh_rollups() == 0  # nothing left
    # A rollup nobody read yet is built by its first report, not by the refresher, and
    # answers exactly.
    db: Any = any_store.db  # type: ignore[attr-defined]
    pages = await any_store.web_report("pages", 1, {}, start, end)
    want = sums_from_rows(await db.fetch(*report_query("pages", 1, {}, start, end)))
    assert pages and [(s.key, s.visitors, s.pageviews) for s in sorted(pages, key=str)] == [
        (s.key, s.visitors, s.pageviews) for s in sorted(want, key=str)
    ]


async def test_marks_older_than_the_lag_are_rebuilt_by_the_report(any_store: Store) -> None:
    rng = random.Random(5)
    start, end = float(D0), float(D0 + 4 * DAY)
    first = make_visits(rng, 60, 3)
    await any_store.write_events([*pageviews(first, rng), *custom(first, rng)], [], [], [], first)
    any_store.rollup_lag_s = 0.01  # a refresher that has stopped: the report catches up
    await any_store.web_report("events", 1, {}, start, end, "signup", "plan")
    more = make_visits(rng, 60, 4, first=500)
    await any_store.write_events([*pageviews(more, rng), *custom(more, rng)], [], [], [], more)
    await asyncio.sleep(0.05)
    got = await any_store.web_report("events", 1, {}, start, end, "signup", "plan")
    assert shown(got) == shown(await from_events(any_store, "signup", "plan", {}, start, end))
