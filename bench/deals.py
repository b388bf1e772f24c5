"""How long a CRM deal import takes on a large database, on each engine.

Usage (from the repository root):

    .venv/bin/python bench/deals.py [--conversions N] [--touches N] [--deals N] [--postgres URL]

Seeds N earlier conversions, each with a hashed e-mail (as ads consent leaves them), and N
touches, a tenth of them with a gclid; then imports a deal file whose rows match by e-mail
(half), by gclid (a quarter) or not at all, and times parsing and the import (matching,
storing, outbox). Prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from firstmark.domain import deals
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.userdata import hash_user_data
from firstmark.services import deals as deals_service
from firstmark.store import Store, create_store

T = 1_790_000_000.0
BATCH = 50_000
CONSENT = json.dumps({"ad_user_data": "granted", "analytics_storage": "granted"})


def email(n: int) -> str:
    return f"buyer{n}@example.com"


async def seed(store: Store, conversions: int, touches: int) -> None:
    await store.load_table(
        "goals", ["id", "name", "kind", "window_days", "created_at"], [(1, "buy", "macro", 30, 0)]
    )
    for start in range(0, conversions, BATCH):
        rows = [
            (n + 1, f"order-{n}", 1, T + n, json.dumps(hash_user_data({"email": email(n)})),
             CONSENT, "server", 0)
            for n in range(start, min(conversions, start + BATCH))
        ]  # fmt: skip
        await store.load_table(
            "conversions",
            ["id", "event_id", "goal_id", "ts", "user_data", "consent", "source", "created_at"],
            rows,
        )
    for start in range(0, touches, BATCH):
        touch_rows = [
            (n + 1, 1, T + n, f"vid-{n}", "google",
             json.dumps({"gclid": f"gclid-{n}"}) if n % 10 == 0 else "{}")
            for n in range(start, min(touches, start + BATCH))
        ]  # fmt: skip
        await store.load_table(
            "touches", ["id", "site_id", "ts", "visitor_id", "utm_source", "click_ids"], touch_rows
        )


def deal_file(count: int, conversions: int, touches: int) -> bytes:
    lines = ["deal_id,stage,ts,value,currency,email,gclid"]
    for n in range(count):
        ts = int(T + max(conversions, touches) + 60)
        if n % 4 < 2:
            lines.append(f"d{n},won,{ts},100,EUR,{email(n * 7 % conversions)},")
        elif n % 4 == 2:
            lines.append(f"d{n},won,{ts},100,EUR,,gclid-{n * 10 % touches}")
        else:
            lines.append(f"d{n},won,{ts},100,EUR,nobody{n}@example.org,")
    return ("\n".join(lines) + "\n").encode()


async def measure(url: str, conversions: int, touches: int, count: int) -> tuple[float, ...]:
    store = create_store(url)
    await store.open()
    try:
        await store.migrate()
        await seed(store, conversions, touches)
        data = deal_file(count, conversions, touches)
        now = T + max(conversions, touches) + 3600
        began = time.perf_counter()
        found = deals.parse_csv(data, "generic", now=now)
        parsed = time.perf_counter() - began
        began = time.perf_counter()
        report = await deals_service.import_deals(store, ClickSigner("bench"), found)
        imported = time.perf_counter() - began
        return parsed, imported, report["matched"], report["imported"]
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversions", type=int, default=200_000)
    parser.add_argument("--touches", type=int, default=200_000)
    parser.add_argument("--deals", type=int, default=5_000)
    parser.add_argument("--postgres", help="an empty PostgreSQL database to use too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        urls = [("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}")]
        if args.postgres:
            urls.append(("postgres", args.postgres))
        print(f"{args.conversions:,} conversions, {args.touches:,} touches, {args.deals:,} deals")
        print(f"{'engine':10} {'parse s':>8} {'import s':>9} {'deals/s':>8} {'matched':>8}")
        for engine, url in urls:
            parsed, took, matched, _ = asyncio.run(
                measure(url, args.conversions, args.touches, args.deals)
            )
            rate = args.deals / took
            print(f"{engine:10} {parsed:8.2f} {took:9.2f} {rate:8,.0f} {matched:8,.0f}")
    print("command: .venv/bin/python bench/deals.py " + " ".join(
        f"--{k} {v}" for k, v in vars(args).items() if v is not None))  # fmt: skip


if __name__ == "__main__":
    main()
