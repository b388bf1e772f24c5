"""How long an erasure and an export take on a large database, on each engine.

Usage (from the repository root):

    .venv/bin/python bench/erase.py [--hits N] [--events N] [--postgres URL]

Seeds N hits and N events from many visitors (one day hash each, a tenth of them with a
visitor id and session), plus one person with a conversion, touches and a lease, then times
`privacy_export` and `privacy_erase` by that person's e-mail. The erasure follows the
conversion to her visitor id, her events and visits, and her day hash through every hit; the
events and hits tables are scanned (neither has an index on those columns). Prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from firstmark.domain import privacy
from firstmark.domain.userdata import hash_user_data
from firstmark.store import Store, create_store

T = 1_790_000_000.0
EMAIL = "bench.person@example.com"
BATCH = 50_000


async def seed(store: Store, hits: int, events: int) -> None:
    await store.load_table("sites", ["id", "key", "name", "created_at"], [(1, "k", "s", 0)])
    await store.load_table(
        "goals", ["id", "name", "kind", "window_days", "created_at"], [(1, "buy", "macro", 30, 0)]
    )
    for start in range(0, hits, BATCH):
        rows = [
            (n + 1, 1 + n % 100, T + n, "click", f"dh-{n % 50_000}", 1)
            for n in range(start, min(hits, start + BATCH))
        ]
        await store.load_table(
            "hits", ["id", "link_id", "ts", "kind", "visitor_day_hash", "dims_id"], rows
        )
    for start in range(0, events, BATCH):
        event_rows = [
            (n + 1, 1, T + n, "pageview", "pageview", "/", f"dh-{n % 50_000}",
             f"vid-{n % 5000}" if n % 10 == 0 else None,
             f"sid-{n % 5000}" if n % 10 == 0 else None, "full" if n % 10 == 0 else "none")
            for n in range(start, min(events, start + BATCH))
        ]  # fmt: skip
        await store.load_table(
            "events",
            ["id", "site_id", "ts", "kind", "name", "path", "visitor_day_hash", "visitor_id",
             "session_id", "consent"],
            event_rows,
        )  # fmt: skip
    user_data = json.dumps(hash_user_data({"email": EMAIL}), sort_keys=True)
    await store.load_table(
        "conversions",
        ["id", "event_id", "goal_id", "ts", "visitor_id", "user_data", "consent", "source",
         "created_at"],
        [(1, "order-1", 1, T, "vid-0", user_data, "{}", "server", 0)],
    )  # fmt: skip
    await store.load_table(
        "touches", ["id", "site_id", "ts", "visitor_id", "utm_source"],
        [(n, 1, T - n, "vid-0", "news") for n in range(1, 4)],
    )  # fmt: skip


async def measure(url: str, hits: int, events: int) -> tuple[float, int, float, int]:
    store = create_store(url)
    await store.open()
    try:
        await store.migrate()
        await seed(store, hits, events)
        subject = privacy.subject("email", EMAIL, b"bench")
        began = time.perf_counter()
        _, tables = await store.privacy_export(subject)
        exported = time.perf_counter() - began
        rows_out = sum(len(r) for r in tables.values())
        began = time.perf_counter()
        _, counts = await store.privacy_erase(subject)
        erased = time.perf_counter() - began
        return exported, rows_out, erased, sum(sum(c.values()) for c in counts.values())
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hits", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--postgres", help="an empty PostgreSQL database to use too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        urls = [("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}")]
        if args.postgres:
            urls.append(("postgres", args.postgres))
        print(f"{args.hits:,} hits, {args.events:,} events; one person's rows found by e-mail")
        print(f"{'engine':10} {'export s':>9} {'rows':>6} {'erase s':>9} {'rows':>6}")
        for engine, url in urls:
            exported, out, erased, rows = asyncio.run(measure(url, args.hits, args.events))
            print(f"{engine:10} {exported:9.2f} {out:6,} {erased:9.2f} {rows:6,}")
    print("command: .venv/bin/python bench/erase.py " + " ".join(
        f"--{k} {v}" for k, v in vars(args).items() if v is not None))  # fmt: skip


if __name__ == "__main__":
    main()
