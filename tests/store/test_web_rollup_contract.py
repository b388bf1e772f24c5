"""The web rollups answer exactly what the visits answer (every engine): totals, the daily
series and every breakdown, unfiltered and with one filter, over ranges that start and end on
any day, after late visits, visits extended across midnight and visitors who consent later."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from typing import Any

from firstmark.domain.events import Event
from firstmark.domain.visits import Visit
from firstmark.domain.web import FILTERS, REPORTS, Sums
from firstmark.store import schema
from firstmark.store.protocol import Store
from firstmark.store.rows import webrollup
from firstmark.store.rows.web import report_query, sums_from_rows, totals_query

DAY = 86_400
D0 = 20_400 * DAY  # a UTC midnight (2025-11-08)
CHANNELS = [("google", "organic", "Organic Search"), ("chatgpt.com", "referral", "AI Assistants"),
            ("(direct)", "(none)", "Direct"), ("news", "email", "Email")]  # fmt: skip


def make_visits(rng: random.Random, count: int, days: int, first: int = 0) -> list[Visit]:
    out = []
    for i in range(first, first + count):
        day = rng.randrange(days)
        # Visits at midnight on the dot and a breath before the next one.
        offset = rng.choice([0.0, DAY - 0.5, rng.random() * DAY])
        started = D0 + day * DAY + offset
        source, medium, channel = rng.choice(CHANNELS)
        person = rng.randrange(12)
        consented = rng.random() < 0.6
        hashed = f"{person:04d}-{day}"  # a daily hash: never the same on two days
        pageviews = rng.randrange(1, 4)
        conversions = int(rng.random() < 0.3)
        out.append(
            Visit(
                site_id=1, key=f"s:{i}" if consented else f"h:{hashed}:{i}", started=started,
                last_ts=started + rng.choice([0, 30, 700]), visitor_day_hash=hashed,
                visitor_id=f"vid-{person:04d}" if consented else None,
                entry_path=rng.choice(["/", "/a", "/b"]), exit_path=rng.choice(["/", "/c"]),
                pageviews=pageviews, events=rng.randrange(2), source=source, medium=medium,
                campaign=rng.choice([None, "spring", "fall"]), channel=channel,
                country=rng.choice([None, "DE", "FR"]), device_type=rng.choice(["mobile", None]),
                browser="Firefox", os=rng.choice(["Linux", "iOS"]), is_bot=rng.random() < 0.1,
                conversions=conversions, revenue=float(conversions * rng.randrange(1, 50)),
                referrer_host=rng.choice([None, "news.example"]),
            )
        )  # fmt: skip
    return out


def pageviews(visits: list[Visit], rng: random.Random) -> list[Event]:
    """Each visit's pageviews as events, paths at random."""
    return [
        Event(site_id=1, ts=v.started + i, kind="pageview", name="pageview",
              path=rng.choice(["/", "/a", "/b", "/c"]), visitor_day_hash=v.visitor_day_hash,
              consent="none", is_bot=v.is_bot, visit_key=v.key, visit_started=v.started)
        for v in visits
        for i in range(v.pageviews)
    ]  # fmt: skip


def shown(sums: list[Sums]) -> list[tuple[Any, ...]]:
    return sorted(
        (str(s.key), s.visitors, s.visits, s.pageviews, s.bounces, round(s.duration_s, 6),
         s.conversions, s.converters, round(s.revenue, 6))
        for s in sums
    )  # fmt: skip


async def raw(store: Store, sql_params: tuple[str, list[Any]]) -> list[Sums]:
    db: Any = store.db  # type: ignore[attr-defined]
    return sums_from_rows(await db.fetch(*sql_params))


async def check_all(store: Store, ranges: list[tuple[int, int]]) -> int:
    """Compare every rollup answer with the visits' answer; the number compared."""
    compared = 0
    filters: list[dict[str, str]] = [{}, {"channel": "Direct"}, {"campaign": "spring"},
                                     {"country": "DE"}, {"medium": "email"}]  # fmt: skip
    for a, b in ranges:
        start, end = float(D0 + a * DAY), float(D0 + b * DAY)
        for f in filters:
            assert webrollup.key_of(None, f, start, end) is not None
            for interval in (None, "day"):
                bucket = None if interval is None else "v.day"
                got = await store.web_totals(1, f, start, end, interval)
                want = await raw(store, totals_query(1, f, start, end, bucket))
                assert shown(got) == shown(want), (a, b, f, interval)
                compared += 1
        for report, column in REPORTS.items():
            if column in ("goal", "event"):
                continue
            for f in filters:
                assert webrollup.key_of(report, f, start, end) is not None
                got = await store.web_report(report, 1, f, start, end)
                want = await raw(store, report_query(report, 1, f, start, end))
                assert shown(got) == shown(want), (a, b, report, f)
                compared += 1
    return compared


async def test_rollups_answer_as_the_visits_do(any_store: Store) -> None:
    rng = random.Random(14)
    first = make_visits(rng, 300, 6)
    await any_store.write_events(pageviews(first, rng), [], [], [], first)
    ranges = [(0, 6), (0, 1), (2, 5), (5, 7), (-2, 2)]
    assert await check_all(any_store, ranges) > 100
    # Late visits on earlier days (a consented visitor's earlier day changes whether a later
    # day counts them), visits extended and converting later, and consent given mid-visit.
    late = make_visits(rng, 60, 3, first=1000)
    changed = [
        replace(v, last_ts=v.last_ts + 900, exit_path="/late", pageviews=v.pageviews + 1,
                conversions=v.conversions + 1, revenue=v.revenue + 5.0)
        for v in first[:40]
    ]  # fmt: skip
    consenting = [
        replace(v, visitor_id=f"vid-{int(v.visitor_day_hash[:4]):04d}")
        for v in first[40:80]
        if v.visitor_id is None
    ]
    more = [
        replace(e, ts=v.last_ts, path="/late")
        for v in changed
        for e in pageviews([replace(v, pageviews=1)], rng)
    ]
    await any_store.write_events(
        [*pageviews(late, rng), *more], [], [], [], [*late, *changed, *consenting]
    )
    await check_all(any_store, ranges)


async def test_what_the_rollups_leave_to_the_visits() -> None:
    day = float(D0)
    assert webrollup.key_of(None, {}, day + 3600, day + DAY) is None  # cut inside a day
    assert webrollup.key_of(None, {"page": "/"}, day, day + DAY) is None
    assert webrollup.key_of(None, {"channel": "Direct", "country": "DE"}, day, day + DAY) is None
    assert webrollup.key_of("pages", {"goal": "signup"}, day, day + DAY) is None
    assert webrollup.key_of("goals", {}, day, day + DAY) is None
    assert webrollup.key_of("events", {}, day, day + DAY) is None
    assert webrollup.key_of("channels", {}, day, day + 2 * DAY) == ("channel", None)
    assert webrollup.key_of("pages", {"country": "DE"}, day, day + DAY) == (
        "page|country", ("filter", "DE"),
    )  # fmt: skip
    assert set(FILTERS) >= {"channel", "country"}


def test_the_upgrade_marks_every_rollup_of_existing_visits() -> None:
    for engine in ("sqlite", "postgres"):
        [migration] = [m for m in schema.load(engine) if m.name == "web_rollup"]
        listed = migration.sql.split("INSERT INTO web_dirty", 1)[1]
        assert re.findall(r"\('([^']*)'\)", listed) == list(webrollup.ALL_DIMS)
