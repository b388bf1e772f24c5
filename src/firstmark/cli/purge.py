"""`firstmark purge [--dry-run]`: apply retention now, or show what it would take."""

from __future__ import annotations

import argparse
import sys

from firstmark.cli.common import Commands
from firstmark.config import Settings
from firstmark.domain.retention import BY_NAME
from firstmark.services import retention
from firstmark.store import Store


async def cmd_purge(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    def progress(name: str, rows: int) -> None:
        print(f"\r{name}: {rows:,} rows purged", end="", file=sys.stderr, flush=True)

    if args.dry_run:
        done = await retention.purge(store, settings, dry_run=True)
    else:
        found = await retention.purge_exclusive(store, settings, progress=progress)
        if found is None:
            print("another process is purging this database now; try later", file=sys.stderr)
            return 1
        done = found
        print(file=sys.stderr)
    verb = "would purge" if args.dry_run else "purged"
    print(f"{'class':12} {'kept':>10} {verb:>12}  what")
    for item in done:
        kept = f"{item.days} days" if item.days else "for ever"
        print(f"{item.name:12} {kept:>10} {item.rows:>12,}  {BY_NAME[item.name].what}")
    print(f"{verb} {sum(o.rows for o in done):,} rows", file=sys.stderr)
    return 0


def register(sub: Commands) -> None:
    purge = sub.add_parser(
        "purge",
        help="delete data past its retention, per data class",
        description="Delete data past its retention, per data class (see docs/privacy.md).",
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="count what would go per class, delete nothing"
    )
    purge.set_defaults(run=cmd_purge)
