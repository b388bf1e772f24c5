"""What every command group shares: the handler shape, the store, JSON output, flag helpers."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO, TypeAlias

from firstmark.config import Settings
from firstmark.errors import StoreUnavailable
from firstmark.store import Store, create_store

Handler = Callable[[argparse.Namespace, Settings, Store], Awaitable[int]]
"""A command that needs the database: `set_defaults(run=handler)`; the store is opened for it."""

SyncHandler = Callable[[argparse.Namespace, Settings], int]
"""A command that runs its own loop or opens its own stores: `set_defaults(sync=handler)`."""

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What a group's `register(sub)` hook receives: the top-level subcommands."""


def print_json(data: Any, *, indent: int | None = 2, ensure_ascii: bool = False) -> None:
    """JSON on stdout: indented, non-ASCII kept as typed (the keywords serve two older outputs)."""
    print(json.dumps(data, indent=indent, ensure_ascii=ensure_ascii))


def open_store(settings: Settings, url: str) -> Store:
    """A store for `url` with the pool and timeouts of `settings` (not opened yet)."""
    return create_store(
        url,
        timeout=settings.db_timeout,
        pool_size=settings.db_pool_size,
        startup_wait=settings.db_startup_wait,
    )


async def with_store(settings: Settings, handler: Handler, args: argparse.Namespace) -> int:
    """Open and migrate the configured database, run `handler` on it, and close it again."""
    store = open_store(settings, settings.database_url)
    await store.open()
    try:
        await store.migrate()
        return await handler(args, settings, store)
    finally:
        await store.close()


# Commands that make the database where there is none (saying where): how a folder starts.
CREATES = frozenset({("serve", None), ("init", None), ("demo", None), ("migrate", None)})
# Commands that add something: run where there is no database, they warn before making one.
ADDS = frozenset(
    {
        ("keys", "create"), ("link", "create"), ("domain", "set"), ("site", "add"),
        ("goal", "add"), ("costs", "import"), ("qr", "import"), ("destination", "add"),
        ("destination", "connect"), ("number", "add"), ("number", "pool"), ("webhook", "add"),
        ("import", None),
    }
)  # fmt: skip
# Every other command reads or changes what is there, and stops when there is nothing.


def check_database(settings: Settings, args: argparse.Namespace) -> None:
    """Before a command opens the default database (./firstmark.db, FIRSTMARK_DATABASE_URL
    unset) that does not exist yet: a note on stderr, a warning, or StoreUnavailable for a
    command that would find nothing in a new one."""
    if "database_url" in settings.given or not settings.database_url.startswith("sqlite:///"):
        return
    path = Path(settings.database_url.removeprefix("sqlite:///")).resolve()
    if path.exists():
        return
    command = (args.command, getattr(args, "action", None))
    if command in CREATES:
        print(f"firstmark: creating a new database at {path}", file=sys.stderr)
    elif command in ADDS:
        print(
            f"firstmark: warning: no database in {path.parent}; creating a new empty one at "
            f"{path} (run firstmark in the folder of your firstmark.db, or set "
            "FIRSTMARK_DATABASE_URL)",
            file=sys.stderr,
        )
    else:
        raise StoreUnavailable(
            f"no database in {path.parent}: run firstmark in the folder of your firstmark.db, "
            "set FIRSTMARK_DATABASE_URL, or create one with `firstmark init`"
        )


def group(sub: Commands, name: str, help: str) -> Commands:
    """A command group like `firstmark keys …`: its subcommands land in `args.action`."""
    return sub.add_parser(name, help=help).add_subparsers(dest="action", required=True)


def bool_flag(parser: argparse.ArgumentParser, name: str, help_on: str, help_off: str) -> None:
    """`--name` / `--no-name`, mutually exclusive; neither leaves the option None (unchanged)."""
    choice = parser.add_mutually_exclusive_group()
    dest = name.replace("-", "_")
    choice.add_argument(f"--{name}", dest=dest, action="store_const", const=True, help=help_on)
    choice.add_argument(f"--no-{name}", dest=dest, action="store_const", const=False, help=help_off)


BAR_WIDTH = 30
Progress = Callable[[int, int], None]
"""A progress callback: (steps done, steps in all)."""


def render_bar(done: int, total: int, label: str = "", width: int = BAR_WIDTH) -> str:
    """The text of a progress bar: `[###############...............] 1/2 links`."""
    total = max(total, 1)
    done = max(0, min(done, total))
    filled = width * done // total
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}" + (
        f" {label}" if label else ""
    )


def progress_bar(label: str = "", out: TextIO | None = None) -> Progress | None:
    """A bar redrawn in place on stderr (`\\r`), its line ended when the work is done; None
    when stderr is not a terminal, so that logs and pipes get nothing of it."""
    stream = out or sys.stderr
    if not stream.isatty():
        return None
    shown = -1

    def draw(done: int, total: int) -> None:
        nonlocal shown
        percent = 100 * done // max(total, 1)
        if percent == shown and done < total:
            return  # a redraw per percent is enough, whatever the number of rows
        shown = percent
        stream.write("\r" + render_bar(done, total, label) + ("\n" if done >= total else ""))
        stream.flush()

    return draw
