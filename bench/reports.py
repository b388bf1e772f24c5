"""Time the reports on a large SQLite database: 10 million hits, 100,000 conversions,
50,000 calls.

Usage (from the repository root):

    .venv/bin/python bench/reports.py [--hits 10000000] [--conversions 100000] [--links 1000]
                                      [--calls 50000] [--days 90] [--keep FOLDER]

Seeding writes straight into the tables with bulk inserts (hits, the rollups computed from
them by SQL, links, costs, goals, touches, conversions, tracking numbers and calls); it is not
what is measured. Then it times, through the code the API uses (firstmark.services.reports, no
HTTP), each of:

- the overview over the whole period (target < 100 ms),
- the campaigns table and the channels table (source and medium; target < 200 ms each),
- attribution over all conversions, five models side by side: the first report when nothing
  is shared out yet; the crediting job of `firstmark serve` sharing out the whole import, and
  the report right after it; a report sent one second into the job (the import shared out
  again); then the warm report (target < 300 ms).
With --keep, a folder seeded before is reused, its credits cleared first.

Each is run 5 times after one warm-up; the median and the worst are printed.
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

from firstmark.domain import reports, stats  # noqa: E402
from firstmark.services import credits  # noqa: E402
from firstmark.services import reports as reports_service  # noqa: E402
from firstmark.store import Store, create_store  # noqa: E402

DAY = 86_400
SOURCES = [("google", "cpc"), ("facebook", "paid-social"), ("newsletter", "email"),
           ("print", "qr"), ("linkedin", "paid-social"), ("bing", "cpc")]  # fmt: skip
CAMPAIGNS = [f"campaign-{i:02d}" for i in range(40)]


def seed(path: Path, hits: int, conversions: int, links: int, days: int, calls: int) -> float:
    started = time.perf_counter()
    rng = random.Random(7)
    now = int(time.time()) // DAY * DAY
    first = now - days * DAY
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    with conn:
        link_rows = []
        for i in range(links):
            source, medium = SOURCES[i % len(SOURCES)]
            link_rows.append((
                i + 1, f"b{i:05d}", "https://shop.example/", source, medium,
                CAMPAIGNS[i % len(CAMPAIGNS)], f"content-{i % 7}", now, now,
            ))  # fmt: skip
        conn.executemany(
            "INSERT INTO links (id, code, destination, utm_source, utm_medium, utm_campaign, "
            "utm_content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            link_rows,
        )
        conn.execute(
            "INSERT INTO hit_dims (id, key, country, device_type, os, browser, is_bot) "
            "VALUES (1, 'h', 'NO', 'mobile', 'iOS', 'Safari', 0), "
            "(2, 'b', 'US', 'bot', 'Other', 'Other', 1)"
        )
        batch = 200_000
        for start in range(0, hits, batch):
            conn.executemany(
                "INSERT INTO hits (link_id, ts, kind, visitor_day_hash, dims_id) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    (
                        rng.randint(1, links),
                        first + rng.random() * days * DAY,
                        "scan" if rng.random() < 0.2 else "click",
                        f"{rng.getrandbits(40):010x}",
                        2 if rng.random() < 0.05 else 1,
                    )
                    for _ in range(min(batch, hits - start))
                ),
            )
            print(f"  hits {start + batch:,}", end="\r", file=sys.stderr)
        print(file=sys.stderr)
        conn.execute(
            "INSERT INTO rollup_hourly (link_id, hour, kind, hits, bot_hits, uniques) "
            "SELECT h.link_id, CAST(h.ts / 3600 AS INTEGER) * 3600, h.kind, count(*), "
            "sum(d.is_bot), count(DISTINCT h.visitor_day_hash) FROM hits h "
            "JOIN hit_dims d ON d.id = h.dims_id GROUP BY 1, 2, 3"
        )
        conn.execute(
            "INSERT INTO rollup_day (link_id, day, kind, hits, bot_hits, uniques) "
            "SELECT link_id, hour / 86400, kind, sum(hits), sum(bot_hits), sum(uniques) "
            "FROM rollup_hourly GROUP BY 1, 2, 3"
        )
        conn.execute(
            "INSERT INTO rollup_totals (day, kind, hits, bot_hits, uniques) "
            "SELECT day, kind, sum(hits), sum(bot_hits), sum(uniques) FROM rollup_day GROUP BY 1, 2"
        )
        conn.executemany(
            "INSERT INTO costs (day, source, medium, campaign, currency, spend_micros, "
            "impressions, clicks, imported_at) VALUES (?, ?, ?, ?, 'EUR', ?, ?, ?, ?)",
            [
                (epoch_day_of(first + d * DAY), s, m, c, rng.randint(1, 500) * 10**6,
                 rng.randint(100, 10_000), rng.randint(1, 300), now)
                for d in range(days) for (s, m) in SOURCES[:2] + SOURCES[4:] for c in CAMPAIGNS[:10]
            ],
        )  # fmt: skip
        conn.execute(
            "INSERT INTO goals (id, name, kind, window_days, created_at) "
            "VALUES (1, 'order', 'macro', 30, ?)",
            (now,),
        )
        touches, convs = [], []
        for i in range(conversions):
            visitor = f"visitor-{i:08d}"
            ts = first + rng.random() * days * DAY
            for k in range(rng.randint(1, 4)):
                link = rng.randint(1, links)
                source, medium = SOURCES[(link - 1) % len(SOURCES)]
                touches.append((ts - rng.random() * 20 * DAY - k, visitor, link, source, medium,
                                CAMPAIGNS[(link - 1) % len(CAMPAIGNS)]))  # fmt: skip
            link = rng.randint(1, links)
            source, medium = SOURCES[(link - 1) % len(SOURCES)]
            convs.append((f"e{i}", ts, round(rng.uniform(5, 500), 2), visitor, link, source,
                          medium, CAMPAIGNS[(link - 1) % len(CAMPAIGNS)], now))  # fmt: skip
        conn.executemany(
            "INSERT INTO touches (ts, visitor_id, link_id, utm_source, utm_medium, utm_campaign) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            touches,
        )
        conn.executemany(
            "INSERT INTO conversions (event_id, goal_id, ts, value, currency, visitor_id, "
            "link_id, utm_source, utm_medium, utm_campaign, consent, source, created_at) "
            "VALUES (?, 1, ?, ?, 'EUR', ?, ?, ?, ?, ?, '{}', 'server', ?)",
            convs,
        )
        seed_calls(conn, rng, calls, links, first, days, now)
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - started


def seed_calls(
    conn: sqlite3.Connection,
    rng: random.Random,
    calls: int,
    links: int,
    first: int,
    days: int,
    now: int,
) -> None:
    """100 tracking numbers and `calls` calls, each on a link's campaign (a third without
    one: direct), two thirds answered, a third of those qualified."""
    conn.executemany(
        "INSERT INTO numbers (id, e164, provider, forward_to, qualify_s, created_at, updated_at) "
        "VALUES (?, ?, 'twilio', '+442079460999', 60, ?, ?)",
        [(n, f"+44207946{n:04d}", now, now) for n in range(1, 101)],
    )
    rows = []
    for i in range(calls):
        started = first + rng.random() * days * DAY
        link = rng.randint(1, links) if rng.random() < 0.67 else None
        source, medium = SOURCES[(link - 1) % len(SOURCES)] if link else (None, None)
        campaign = CAMPAIGNS[(link - 1) % len(CAMPAIGNS)] if link else None
        answered = rng.random() < 0.67
        talk = rng.randint(5, 600) if answered else None
        qualified = talk is not None and talk >= 60 and rng.random() < 0.5
        rows.append((
            f"CA{i:09d}", rng.randint(1, 100), started, "completed" if answered else "no-answer",
            started + 8 if answered else None, started + 8 + (talk or 20), talk,
            "paid" if link else "direct", link, campaign, source, medium, campaign,
            f"content-{(link or 0) % 7}" if link else None, i + 1 if qualified else None, now,
        ))  # fmt: skip
    conn.executemany(
        "INSERT INTO calls (provider, call_id, number_id, started, status, answered, ended, "
        "duration_s, channel, link_id, campaign, utm_source, utm_medium, utm_campaign, "
        "utm_content, conversion_id, updated_at) "
        "VALUES ('twilio', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def count(path: Path, table: str) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def forget_credits(path: Path) -> None:
    """Back to just after the import: no conversion shared out yet."""
    with sqlite3.connect(path) as conn:
        for table in ("attribution_credits", "credited", "credit_days", "credit_dirty"):
            conn.execute(f"DELETE FROM {table}")


async def once(label: str, run: Callable[[], Awaitable[Any]], note: str) -> None:
    started = time.perf_counter()
    await run()
    print(f"{label:<34}{(time.perf_counter() - started) * 1000:>10.1f}{'(once)':>10}  {note}")


def epoch_day_of(ts: float) -> int:
    return int(ts // DAY)


async def timed(label: str, target_ms: float, run: Callable[[], Awaitable[Any]]) -> None:
    await run()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    median = statistics.median(times)
    verdict = "PASS" if median < target_ms else "MISS"
    print(f"{label:<34}{median:>10.1f}{max(times):>10.1f}{target_ms:>10.0f}  {verdict}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=10_000_000)
    parser.add_argument("--conversions", type=int, default=100_000)
    parser.add_argument("--links", type=int, default=1_000)
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--keep", type=Path, help="keep the database in this folder")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="fm-reports-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'fm.db'}"
    store: Store = create_store(url)
    await store.open()
    await store.migrate()
    await store.close()
    if args.keep and count(folder / "fm.db", "conversions"):
        print(f"reusing the seed in {folder} (its credits cleared)")
    else:
        print(
            f"seeding {args.hits:,} hits, {args.conversions:,} conversions, {args.calls:,} "
            f"calls into {folder}"
        )
        took = seed(
            folder / "fm.db", args.hits, args.conversions, args.links, args.days, args.calls
        )
        print(f"seeded in {took:.0f} s")
    forget_credits(folder / "fm.db")

    store = create_store(url)
    await store.open()
    end = (time.time() // DAY + 1) * DAY
    start = end - (args.days + 1) * DAY
    window = reports_service.Window(
        stats.Range(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC), "day")
    )

    async def overview() -> None:
        (await reports_service.table(store, ("day",), window, "EUR")).total()

    async def campaigns() -> None:
        await reports_service.table(store, ("campaign",), window, "EUR")

    async def call_totals() -> None:
        await store.call_totals("utm_campaign", start, end)

    async def channels() -> None:
        await reports_service.table(store, ("source", "medium"), window, "EUR")

    async def channel_calls() -> None:
        await store.call_totals(("utm_source", "utm_medium"), start, end)

    async def attribution() -> None:
        # What the API does: conversions not yet shared out are shared out and stored, the
        # rest is summed by the database.
        await reports_service.comparison(store, ("source", "medium"), window, "EUR", 7.0)

    async def attribution_live() -> None:
        journeys = await store.conversion_journeys(start, end)
        reports.model_comparison(journeys, ("source", "medium"), "EUR")

    print(
        f"\n# bench/reports.py --hits {args.hits} --conversions {args.conversions} "
        f"--calls {args.calls}"
    )
    print(f"{'report':<34}{'median ms':>10}{'max ms':>10}{'target':>10}")
    await timed("overview (by day, KPIs)", 100, overview)
    await timed("campaigns table", 200, campaigns)
    await timed("  of which calls by campaign", 50, call_totals)
    await timed("channels table", 200, channels)
    await timed("  of which calls by source, medium", 50, channel_calls)
    # A report with nothing shared out yet (the crediting job off) shares out all of them.
    await once("attribution, first report", attribution, f"shares out {args.conversions:,}")
    await store.close()
    forget_credits(folder / "fm.db")
    store = create_store(url)
    await store.open()
    # As `firstmark serve` does after a bulk import: the crediting job, then the first report.
    await once("crediting job, whole import", lambda: credits.credit_new(store), "")
    await once("attribution, report after it", attribution, "")
    # A report sent one second into the job: it waits for the batch being written, then
    # shares out what is still waiting in its range.
    await store.close()
    forget_credits(folder / "fm.db")
    store = create_store(url)
    await store.open()
    job = asyncio.create_task(credits.credit_new(store))
    await asyncio.sleep(1.0)
    await once("attribution, 1 s into the job", attribution, "")
    await job
    await timed("attribution, 5 models", 300, attribution)
    await timed("attribution, recomputed (live)", 2000, attribution_live)
    size = (folder / "fm.db").stat().st_size / 2**20
    print(f"database: {size:,.0f} MB in {folder}")
    await store.close()


if __name__ == "__main__":
    asyncio.run(main())
