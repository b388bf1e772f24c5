"""Time data-driven attribution and the paths report on a large SQLite database: 100,000
conversions over 1,000,000 paths.

Usage (from the repository root):

    .venv/bin/python bench/insight.py [--visitors 1000000] [--conversions 100000]
                                      [--days 90] [--keep FOLDER]

Seeding writes straight into the tables with bulk inserts (goals, touches, conversions), then
runs the crediting job of `firstmark serve` once, so the conversions are shared out as they
are on a running server; none of it is measured. Every visitor is one path of 1 to 4 touches
over six channels, written in time order as a server writes them; a tenth of them convert.
Then it times, through the code the API uses (firstmark.services, no HTTP):

- the data-driven model by source and medium, cold (nothing kept: the paths are counted by the
  database) and warm (kept, as a report seen again; targets < 2 s and < 300 ms);
- the whole attribution report as GET /api/v1/reports/attribution answers it (five stored
  models and the data-driven one), warm;
- the model by campaign (240 groups: a removal effect each) and Shapley values, cold;
- the paths report by channel, cold and warm.
With --keep, a folder seeded before is reused.

Each warm figure is the median of 5 runs after one warm-up; cold ones run once.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from firstmark.domain import datadriven, paths, stats  # noqa: E402
from firstmark.services import credits  # noqa: E402
from firstmark.services import paths as paths_service  # noqa: E402
from firstmark.services import reports as reports_service  # noqa: E402
from firstmark.store import Store, create_store  # noqa: E402

DAY = 86_400
SOURCES = [("google", "cpc"), ("facebook", "paid-social"), ("newsletter", "email"),
           ("print", "qr"), ("linkedin", "paid-social"), ("bing", "cpc")]  # fmt: skip
CAMPAIGNS = [f"campaign-{i:02d}" for i in range(40)]


def seed(path: Path, visitors: int, conversions: int, days: int) -> float:
    started = time.perf_counter()
    rng = random.Random(11)
    now = int(time.time()) // DAY * DAY
    first = now - days * DAY
    every = max(1, visitors // conversions)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    with conn:
        conn.execute(
            "INSERT INTO goals (id, name, kind, window_days, created_at) "
            "VALUES (1, 'order', 'macro', 30, ?)",
            (now,),
        )
        touches: list[tuple[Any, ...]] = []
        convs: list[tuple[Any, ...]] = []
        for i in range(visitors):
            visitor = f"visitor-{i:08d}"
            end = first + 20 * DAY + rng.random() * (days - 20) * DAY
            converts = i % every == 0 and len(convs) < conversions
            # Journeys that convert are longer, and end more often in search.
            steps = rng.randint(1, 4) if converts else rng.choice((1, 1, 2, 3))
            for k in range(steps):
                channel = rng.randrange(len(SOURCES))
                if converts and k == steps - 1 and rng.random() < 0.5:
                    channel = 0
                source, medium = SOURCES[channel]
                campaign = CAMPAIGNS[(channel * 7 + rng.randrange(40)) % len(CAMPAIGNS)]
                ts = end - (steps - k) * rng.random() * 4 * DAY
                touches.append((ts, visitor, source, medium, campaign))
            if converts:
                convs.append((f"e{i}", end, round(rng.uniform(5, 500), 2), visitor, now))
        # In time order, as a server writes them: a visitor's touches lie far apart.
        touches.sort()
        conn.executemany(
            "INSERT INTO touches (ts, visitor_id, utm_source, utm_medium, utm_campaign) "
            "VALUES (?, ?, ?, ?, ?)",
            touches,
        )
        conn.executemany(
            "INSERT INTO conversions (event_id, goal_id, ts, value, currency, visitor_id, "
            "consent, source, created_at) VALUES (?, 1, ?, ?, 'EUR', ?, '{}', 'server', ?)",
            convs,
        )
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - started


def count(path: Path, table: str) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def once(label: str, target_ms: float | None, run: Callable[[], Awaitable[Any]]) -> None:
    paths_service.forget()  # cold: nothing kept from an earlier report
    started = time.perf_counter()
    await run()
    took = (time.perf_counter() - started) * 1000
    verdict = "" if target_ms is None else ("PASS" if took < target_ms else "MISS")
    target = "" if target_ms is None else f"{target_ms:.0f}"
    print(f"{label:<40}{took:>10.1f}{'(once)':>10}{target:>10}  {verdict}")


async def timed(label: str, target_ms: float | None, run: Callable[[], Awaitable[Any]]) -> None:
    await run()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    median = statistics.median(times)
    verdict = "" if target_ms is None else ("PASS" if median < target_ms else "MISS")
    target = "" if target_ms is None else f"{target_ms:.0f}"
    print(f"{label:<40}{median:>10.1f}{max(times):>10.1f}{target:>10}  {verdict}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=1_000_000)
    parser.add_argument("--conversions", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--keep", type=Path, help="keep the database in this folder")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="fm-insight-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'fm.db'}"
    store: Store = create_store(url)
    await store.open()
    await store.migrate()
    if args.keep and count(folder / "fm.db", "conversions"):
        print(f"reusing the seed in {folder}")
    else:
        await store.close()
        print(f"seeding {args.visitors:,} paths, {args.conversions:,} conversions into {folder}")
        took = seed(folder / "fm.db", args.visitors, args.conversions, args.days)
        print(f"seeded in {took:.0f} s")
        store = create_store(url)
        await store.open()
    started = time.perf_counter()
    shared = await credits.credit_new(store)
    print(f"crediting job: {shared:,} conversions in {time.perf_counter() - started:.0f} s")

    end = (time.time() // DAY + 1) * DAY
    start = end - (args.days + 1) * DAY
    window = reports_service.Window(
        stats.Range(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC), "day")
    )
    channels = ("source", "medium")

    async def model() -> None:
        found = await paths_service.model(store, channels, window, "EUR")
        assert found.credits is not None

    async def report() -> None:
        entries, currency, _ = await reports_service.comparison(store, channels, window, "EUR", 7.0)
        found = await paths_service.model(store, channels, window, currency)
        datadriven.columns(entries, channels, found)

    async def by_campaign() -> None:
        await paths_service.model(store, ("source", "medium", "campaign"), window, "EUR")

    async def shapley() -> None:
        await paths_service.model(store, channels, window, "EUR", "shapley")

    async def paths_report() -> None:
        found = await paths_service.paths(store, ("channel",), window, "EUR")
        paths.to_json(paths.report(found), ("channel",))

    data = await paths_service.paths(store, channels, window, "EUR")
    print(
        f"\n# bench/insight.py --visitors {args.visitors} --conversions {args.conversions}: "
        f"{data.journeys:,} paths ({len(data.converting) + len(data.lost):,} distinct rows), "
        f"{data.conversions:,} converting"
    )
    print(f"{'report':<40}{'median ms':>10}{'max ms':>10}{'target':>10}")
    await once("data-driven by source/medium, cold", 2000, model)
    await timed("data-driven by source/medium, warm", 300, model)
    await timed("attribution report, six models, warm", 300, report)
    await once("data-driven by campaign, cold", None, by_campaign)
    await once("Shapley values, cold", None, shapley)
    await once("paths report by channel, cold", None, paths_report)
    await timed("paths report by channel, warm", None, paths_report)
    size = (folder / "fm.db").stat().st_size / 2**20
    print(f"database: {size:,.0f} MB in {folder}")
    await store.close()


if __name__ == "__main__":
    asyncio.run(main())
