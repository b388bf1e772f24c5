"""What the writer pays per click under real traffic as the database grows, with and without
telling first visits (SQLite: the writer's day sketches; PostgreSQL: a `hit_visitors` row per
first visit, ADR 0029).

Usage (from the repository root):

    .venv/bin/python bench/visitors.py [--clicks 200000] [--batch 1000] [--no-visitors]
        [--db postgresql://user@host/db]

It opens a fresh SQLite file in a temporary folder (or the empty database `--db` names) and
writes `--clicks` clicks over 100 links
in batches of `--batch`, each click from an address of its own with one of six browser
User-Agents (as bench/redirect.py's real traffic), through the hit writer's enrichment and the
store's batch write. Every 50,000 clicks it prints the CPU µs per click (process time, the
SQLite thread included) of each part. `--no-visitors` skips first visits (uniques are then not
counted): the difference is what telling them costs. The batch size
the writer uses is about half a flush interval of clicks under load (ADR 0020): at 5,000-10,000
clicks a second, 125-250, not 1,000.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from ipaddress import IPv4Address
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from firstmark.domain.hits import RawHit  # noqa: E402
from firstmark.geo import GeoLookup  # noqa: E402
from firstmark.ingest.hits import HitWriter  # noqa: E402
from firstmark.store import create_store  # noqa: E402
from firstmark.store.rows.hits import HitMemory  # noqa: E402
from firstmark.store.sqlite import hits as sqlite_hits  # noqa: E402
from redirect import BROWSER_UAS  # noqa: E402

SLICE = 50_000
LINKS = 100


async def run(clicks: int, batch: int, db: str) -> None:
    with tempfile.TemporaryDirectory(prefix="fm-visitors-") as folder:
        store = create_store(db or f"sqlite:///{folder}/fm.db")
        await store.open()
        await store.migrate()
        writer = HitWriter(store, GeoLookup())
        now = time.time()
        enrich = write = 0.0
        done = 0
        print("  clicks   enrich    write   (CPU us per click over the last 50,000)")
        for start in range(0, clicks, batch):
            raws = [
                RawHit(
                    1 + i % LINKS,
                    now,
                    "click",
                    "127.0.0.1",
                    str(IPv4Address((i * 40503 + 0x0B000000) % 2**32)),
                    BROWSER_UAS[i % len(BROWSER_UAS)],
                    "",
                    "",
                )
                for i in range(start, min(start + batch, clicks))
            ]
            t0 = time.process_time()
            hits = await writer._enrich(raws)
            t1 = time.process_time()
            await store.write_hits(hits)
            t2 = time.process_time()
            enrich += t1 - t0
            write += t2 - t1
            done += len(raws)
            if done % SLICE == 0:  # --batch divides 50,000 (125, 250, 1000, ...)
                per = 1e6 / SLICE
                print(f"{done:>8,} {enrich * per:8.1f} {write * per:8.1f}", flush=True)
                enrich = write = 0.0
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clicks", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument(
        "--no-visitors", action="store_true", help="do not tell first visits (no uniques)"
    )
    parser.add_argument("--db", default="", help="an empty PostgreSQL database instead")
    args = parser.parse_args()
    if args.no_visitors:
        HitMemory.unseen = lambda self, hits: []  # type: ignore[method-assign]
        sqlite_hits.first_visits = lambda keys, sketch_of: set()  # type: ignore[assignment]
    print(
        f"# bench/visitors.py --clicks {args.clicks} --batch {args.batch}"
        + (" --no-visitors" if args.no_visitors else "")
    )
    asyncio.run(run(args.clicks, args.batch, args.db))


if __name__ == "__main__":
    main()
