"""`firstmark demo`: fill a fresh database with 90 days of demo data."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from firstmark.cli.common import Commands
from firstmark.config import Settings
from firstmark.domain import phones
from firstmark.store import Store


async def cmd_demo(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from firstmark.services.demo import seed

    if await store.count_links() and not args.force:
        print(
            "firstmark: the database already has links; the demo fills a fresh one "
            "(point FIRSTMARK_DATABASE_URL at a new file, or pass --force)",
            file=sys.stderr,
        )
        return 1
    now = datetime.now(UTC)
    began = time.perf_counter()
    summary = await seed(
        store, now.date(), phones.hash_key(settings.secret_key), now=now.timestamp()
    )
    print(f"{summary} (written in {time.perf_counter() - began:.1f} s)")
    return 0


def register(sub: Commands) -> None:
    demo = sub.add_parser("demo", help="fill a fresh database with 90 days of demo data")
    demo.add_argument("--force", action="store_true", help="even if the database has links")
    demo.set_defaults(run=cmd_demo)
