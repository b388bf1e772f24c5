"""Time the web analytics reports and funnels on SQLite and PostgreSQL, side by side.

Usage (from the repository root):

    .venv/bin/python bench/web.py [--visits 2000000] [--pageviews-per-visit 5] [--days 90]
                                  [--postgres postgresql://…] [--keep FOLDER]

Seeding writes visits and their events straight into the tables with bulk inserts, in time
order as the event writer does (it is not what is measured): a site, `--visits` visits over
`--days` days from a realistic mix of channels, `--pageviews-per-visit` pageviews a visit on
average, one signup in twenty visits.
Then it times, through the code the API uses (firstmark.services.web and .funnels, no HTTP):

- the overview over the whole period, by day (target < 100 ms),
- the channels, pages and sources breakdowns (target < 200 ms each),
- a filtered breakdown (pages of the AI Assistants channel),
- a 4-step funnel (target < 500 ms),
- each of the overview, pages, events by property and the funnel (those timed) again after
  the last day was marked changed, as the event writer does under live traffic: without the
  rollup refresher (the report rebuilds that day's rollup first), the refresher's round
  itself, and each report after the round (as `firstmark serve` runs them).

`--only NAME` (repeatable, e.g. `--only "4-step funnel"`) times those cases only.

Each is run once, then 3 times; the first call, the median and the worst are printed, one
column per engine ("nan" where PostgreSQL's 5 s command timeout stopped a query). The seeding
marks every day changed, as the writer (or the upgrade to the rollups) does, so a report's
first call builds its rollup over the whole 90 days; the cases after a day changed show the
first of 4 then the median and worst of the other 3. The issue's full size
is `--visits 2000000` (10 M pageviews); the default is smaller so a run takes minutes, not an
hour.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from firstmark.domain.funnels import Funnel, Step  # noqa: E402
from firstmark.domain.sites import Site, new_key  # noqa: E402
from firstmark.errors import StoreUnavailable  # noqa: E402
from firstmark.services import funnels as funnels_service  # noqa: E402
from firstmark.services import web as web_service  # noqa: E402
from firstmark.store import Store, create_store  # noqa: E402
from firstmark.store.rows.eventrollup import DIRTY_DIM as EVENTS_DIM  # noqa: E402
from firstmark.store.rows.funnelrollup import DIRTY_DIM  # noqa: E402
from firstmark.store.rows.webrollup import ALL_DIMS  # noqa: E402

DAY = 86_400
# (weight, source, medium, referrer, channel)
MIX = [
    (30, "www.google.com", "organic", "www.google.com", "Organic Search"),
    (15, "google", "cpc", None, "Paid Search"),
    (10, "facebook", "paid_social", None, "Paid Social"),
    (8, "newsletter", "email", None, "Email"),
    (5, "chatgpt.com", "referral", "chatgpt.com", "AI Assistants"),
    (7, "news.example", "referral", "news.example", "Referral"),
    (25, "(direct)", "(none)", None, "Direct"),
]
PAGES = ["/", "/pricing", "/blog/a", "/blog/b", "/docs", "/signup", "/features", "/about"]
COUNTRIES = ["DE", "US", "FR", "GB", "NL", None]
DEVICES = [("desktop", "Chrome", "Windows"), ("mobile", "Safari", "iOS"),
           ("mobile", "Chrome", "Android"), ("desktop", "Firefox", "Linux")]  # fmt: skip
VISIT_COLUMNS = (
    "site_id", "key", "started", "last_ts", "day", "visitor_day_hash", "visitor_id",
    "entry_path", "exit_path", "pageviews", "events", "source", "medium", "campaign", "term",
    "content", "referrer_host", "click_ids", "link_id", "channel", "country", "device_type",
    "browser", "os", "is_bot", "conversions", "revenue",
)  # fmt: skip
EVENT_COLUMNS = (
    "site_id", "ts", "kind", "name", "path", "visitor_day_hash", "consent", "referrer_host",
    "country", "device_type", "is_bot", "visitor_id", "props", "value", "visit_key",
    "visit_started",
)  # fmt: skip


def rows(site_id: int, visits: int, per_visit: int, days: int) -> Iterator[tuple[Any, ...]]:
    """("v", visit row) and ("e", event row) tuples, deterministic."""
    rng = random.Random(7)
    weights = [m[0] for m in MIX]
    end = int(time.time()) // DAY * DAY
    first = end - days * DAY
    for i in range(visits):
        _, source, medium, referrer, channel = rng.choices(MIX, weights)[0]
        started = first + (i + rng.random()) * days * DAY / visits  # in time order, as written
        day = int(started // DAY)
        consented = rng.random() < 0.3
        person = rng.randrange(visits // 2 or 1)
        vid = f"vid-{person:09d}" if consented else None
        hashed = f"{person:012x}{day:06d}"
        key = f"s:{i:012d}" if consented else f"h:{hashed}"
        count = max(1, int(rng.expovariate(1 / per_visit)))
        paths = [rng.choice(PAGES) for _ in range(count)]
        signup = rng.random() < 0.05
        ts = started
        device, browser, os_name = rng.choice(DEVICES)
        country = rng.choice(COUNTRIES)
        for path in paths:
            yield ("e", (site_id, ts, "pageview", "pageview", path, hashed, "none", referrer,
                         country, device, False, vid, None, None, key, started))  # fmt: skip
            ts += rng.random() * 120
        if signup:
            plan = rng.choice(["free", "pro", "team"])
            yield ("e", (site_id, ts, "event", "signup", "/signup", hashed, "none", None,
                         country, device, False, vid, json.dumps({"plan": plan}), 20.0, key,
                         started))  # fmt: skip
        yield ("v", (site_id, key, started, ts, day, hashed, vid, paths[0], paths[-1],
                     len(paths), int(signup), source, medium, None, None, None, referrer, "",
                     None, channel, country, device, browser, os_name, False, int(signup),
                     20.0 if signup else 0.0))  # fmt: skip


async def seed(store: Store, url: str, visits: int, per_visit: int, days: int) -> tuple[int, int]:
    site = await store.insert_site(Site("Bench", new_key(), ("bench.example",)))
    assert site.id is not None
    batch_v: list[tuple[Any, ...]] = []
    batch_e: list[tuple[Any, ...]] = []
    counts = [0, 0]
    pg = url.startswith("postgres")
    conn: Any = None
    if pg:
        import asyncpg

        conn = await asyncpg.connect(url)
    else:
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute("PRAGMA synchronous = OFF")

    async def flush() -> None:
        if pg:
            await conn.copy_records_to_table("visits", records=batch_v, columns=VISIT_COLUMNS)
            await conn.copy_records_to_table("events", records=batch_e, columns=EVENT_COLUMNS)
        else:
            with conn:
                conn.executemany(
                    f"INSERT INTO visits ({', '.join(VISIT_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(VISIT_COLUMNS))})",
                    batch_v,
                )
                conn.executemany(
                    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})", batch_e)  # fmt: skip
        counts[0] += len(batch_v)
        counts[1] += len(batch_e)
        batch_v.clear()
        batch_e.clear()

    for kind, row in rows(site.id, visits, per_visit, days):
        (batch_v if kind == "v" else batch_e).append(row)
        if len(batch_e) >= 50_000:
            await flush()
    await flush()
    # As the event writer does for each day it writes: the web rollups rebuild at the first
    # report (timed apart below).
    dims = " UNION ALL ".join(f"SELECT '{d}' AS dim" for d in ALL_DIMS)
    mark = (
        "INSERT INTO web_dirty (site_id, day, dim) SELECT DISTINCT v.site_id, v.day, d.dim "
        f"FROM visits v CROSS JOIN ({dims}) d"
    )
    if pg:
        await conn.execute(mark)
        await conn.execute("ANALYZE visits")
        await conn.execute("ANALYZE events")
        await conn.close()
    else:
        with conn:
            conn.execute(mark)
        conn.execute("ANALYZE")
        conn.close()
    return site.id, counts[1]


async def timed(fn: Callable[[], Awaitable[Any]], runs: int = 3) -> tuple[float, float, float]:
    """The first call (it builds the report's rollup), then the median and worst of `runs`, in
    ms; nan when the store gave up (PostgreSQL's command timeout, FIRSTMARK's 5 s default)."""
    nan = float("nan")
    try:
        started = time.perf_counter()
        await fn()
        first = (time.perf_counter() - started) * 1000
        took = []
        for _ in range(runs):
            started = time.perf_counter()
            await fn()
            took.append((time.perf_counter() - started) * 1000)
    except StoreUnavailable:
        return nan, nan, nan
    return first, statistics.median(took), max(took)


async def measure(url: str, args: argparse.Namespace) -> dict[str, tuple[float, float, float]]:
    store = create_store(url)
    pg = url.startswith("postgres")
    await store.open()
    await store.migrate()
    try:
        started = time.perf_counter()
        if args.site:  # measured again on an earlier seed, as it stands
            site = args.site
        else:
            site, events = await seed(store, url, args.visits, args.pageviews_per_visit, args.days)
            print(f"  {url.split(':')[0]}: seeded {args.visits:,} visits, {events:,} events "
                  f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)  # fmt: skip
        funnel = await store.insert_funnel(
            Funnel(site, "bench", (Step("page", "/"), Step("page", "/pricing"),
                                   Step("page", "/signup"), Step("event", "signup")))
        )  # fmt: skip
        assert funnel.id is not None
        now = datetime.now(UTC)
        span = {
            "site": str(site),
            "from": (now - timedelta(days=args.days)).date().isoformat(),
            "to": now.date().isoformat(),
        }
        plain = {k: v for k, v in span.items() if k != "site"}
        end_day = int(now.timestamp()) // DAY * DAY
        start_day = end_day - args.days * DAY
        fid = funnel.id
        cases: dict[str, Callable[[], Awaitable[Any]]] = {
            "overview (by day)": lambda: web_service.report(store, "overview", span, now),
            "channels": lambda: web_service.report(store, "channels", span, now),
            "sources": lambda: web_service.report(store, "sources", span, now),
            "pages": lambda: web_service.report(store, "pages", span, now),
            "pages, channel=AI Assistants": lambda: web_service.report(
                store, "pages", {**span, "channel": "AI Assistants"}, now
            ),
            "events by prop": lambda: web_service.report(
                store, "events", {**span, "name": "signup", "prop": "plan"}, now
            ),
            "4-step funnel": lambda: funnels_service.report(store, fid, plain, now),
            # The same report read from the events, as before its rollup (a range one second
            # short of whole days is not one the rollups answer).
            "events by prop, from the events": lambda: store.web_report(
                "events", site, {}, float(start_day), float(end_day - 1), "signup", "plan"
            ),
        }
        out = {}
        db: Any = store.db  # type: ignore[attr-defined]
        if args.only:
            cases = {k: v for k, v in cases.items() if k in args.only}
        for name, fn in cases.items():
            out[name] = await timed(fn)
            if pg and name == "overview (by day)":
                await db.execute("ANALYZE web_daily")
                await db.execute("ANALYZE web_daily_visitors")
            print(f"  {url.split(':')[0]}: {name}: " + " / ".join(f"{t:.0f}" for t in out[name])
                  + " ms", file=sys.stderr)  # fmt: skip
        # Live traffic: the writer has changed the last day's visits since the last report.
        # Without the refresher the report rebuilds that day's rollup first; with it, the
        # refresher's round does, and the report finds its rollup warm.
        today = int(now.timestamp() // DAY) - 1  # the last day seeded
        live = [n for n in ("overview (by day)", "pages", "events by prop", "4-step funnel")
                if n in cases]  # fmt: skip

        async def changed() -> None:
            for dim in (*ALL_DIMS, DIRTY_DIM, EVENTS_DIM):
                await db.execute(
                    "INSERT INTO web_dirty (site_id, day, dim, marked_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    [site, today, dim, time.time()],
                )

        async def after_change(fn: Callable[[], Awaitable[Any]], refresh: bool) -> float:
            await changed()
            if refresh:
                await store.refresh_rollups()
            started = time.perf_counter()
            await fn()
            return (time.perf_counter() - started) * 1000

        def first_then(took: list[float]) -> tuple[float, float, float]:
            return took[0], statistics.median(took[1:]), max(took[1:])

        for name in live:
            took = [await after_change(cases[name], False) for _ in range(4)]
            out[f"{name} after a day changed"] = first_then(took)
        if live:
            took = [await after_change(store.refresh_rollups, False) for _ in range(4)]
            out["refresher round after a day changed"] = first_then(took)
            store.rollup_lag_s = 60.0  # as `firstmark serve` sets it
            for name in live:
                took = [await after_change(cases[name], True) for _ in range(4)]
                out[f"{name} after a day changed, refreshed"] = first_then(took)
            store.rollup_lag_s = 0.0
        for name in [n for n in out if "changed" in n]:
            shown = " / ".join(f"{t:.0f}" for t in out[name])
            print(f"  {url.split(':')[0]}: {name}: {shown} ms", file=sys.stderr)
        return out
    finally:
        await store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--pageviews-per-visit", type=int, default=5)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL (an empty database)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the SQLite file here")
    parser.add_argument(
        "--site",
        type=int,
        default=0,
        help="measure this site of databases seeded before, without seeding",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--only", action="append", default=[], help="time this case only (repeatable)"
    )
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fm-web-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    if not args.no_sqlite:
        results["SQLite"] = asyncio.run(measure(f"sqlite:///{folder / 'web.db'}", args))
    if args.postgres:
        results["PostgreSQL"] = asyncio.run(measure(args.postgres, args))
    engines = list(results)
    print(f"{args.visits:,} visits, ~{args.visits * args.pageviews_per_visit:,} pageviews, "
          f"{args.days} days; first call, then median / worst of 3, ms")  # fmt: skip
    print(f"{'report':52}" + "".join(f"{e:>30}" for e in engines))
    for name in results[engines[0]]:
        cells = "".join("{:>12.0f} {:>8.0f} / {:>6.0f}".format(*results[e][name]) for e in engines)
        print(f"{name:52}{cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
