"""`firstmark migrate` and `firstmark copy`: the schema, and moving an install elsewhere."""

from __future__ import annotations

import argparse
import asyncio
import sys

from firstmark.cli.common import Commands, open_store
from firstmark.config import Settings
from firstmark.store import Store


async def cmd_migrate(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    # with_store has migrated already; report what the database holds now.
    pending = await store.pending_migrations()
    print("database is up to date" if not pending else f"pending: {', '.join(pending)}")
    return 0


def cmd_copy(args: argparse.Namespace, settings: Settings) -> int:
    """Move an install to another database: every table, ids kept, counts verified."""
    from firstmark.services.transfer import copy_store

    async def run() -> int:
        source, target = open_store(settings, args.source), open_store(settings, args.target)
        await source.open()
        try:
            await target.open()
            try:
                await source.migrate()
                await target.migrate()
                copied = await copy_store(source, target)
            finally:
                await target.close()
        finally:
            await source.close()
        for item in copied:
            print(f"{item.table:16} {item.target:>12,} rows")
        print(f"copied {sum(c.target for c in copied):,} rows; counts match", file=sys.stderr)
        return 0

    return asyncio.run(run())


def register(sub: Commands) -> None:
    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)

    copy = sub.add_parser(
        "copy",
        help="copy all data into another, empty database",
        description="Copy every table to another (empty) database, e.g. SQLite → PostgreSQL.",
    )
    copy.add_argument("--from", dest="source", required=True, metavar="URL")
    copy.add_argument("--to", dest="target", required=True, metavar="URL")
    copy.set_defaults(sync=cmd_copy)
