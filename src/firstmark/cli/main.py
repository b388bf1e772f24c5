"""The `firstmark` command: the parser, the runner, and the command groups in help order.

Errors print one line to stderr and exit non-zero: 1 for a refused request, 2 for bad usage or
settings, 3 when the database cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Protocol

from firstmark import __version__
from firstmark.cli import (
    costs,
    database,
    demo,
    destinations,
    domains,
    goals,
    imports,
    keys,
    linkcheck,
    links,
    numbers,
    privacy,
    purge,
    qr,
    report,
    server,
    sites,
    users,
    webhooks,
)
from firstmark.cli.common import Commands, check_database, with_store
from firstmark.config import from_env, with_secret
from firstmark.errors import ConfigError, FirstmarkError, InvalidFile, StoreUnavailable


class CommandGroup(Protocol):
    """A module of commands: `register(sub)` adds its parsers, each with `run=` or `sync=`."""

    __name__: str

    def register(self, sub: Commands) -> None: ...


DESCRIPTION = (
    "Self-hosted, privacy-first, first-party tracking: short links, QR codes, call tracking, "
    "conversions. Errors print one line to stderr and exit non-zero: 1 for a refused request, "
    "2 for bad usage or settings, 3 when the database cannot be used."
)

# In the order `firstmark --help` lists them.
GROUPS: tuple[CommandGroup, ...] = (
    server,  # serve
    database,  # migrate, copy
    keys,  # init, keys
    users,  # user
    links,  # link
    domains,  # domain
    sites,  # site
    goals,  # goal
    demo,  # demo
    costs,  # costs
    qr,  # qr
    linkcheck,  # links
    destinations,  # destination, outbox
    numbers,  # number, calls
    privacy,  # privacy
    purge,  # purge
    webhooks,  # webhook
    report,  # report
    imports,  # import
)


class HelpFormatter(argparse.HelpFormatter):
    """argparse's, measuring each command name at the indent it is printed at, so that the
    longest (`destination`) keeps its help on its own line instead of the next."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS:
            for sub in self._iter_indented_subactions(action):  # indented while iterating
                length = len(self._format_action_invocation(sub)) + self._current_indent
                self._action_max_length = max(self._action_max_length, length)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="firstmark", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"firstmark {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # The database is checked before the secret file is made, so a command that stops
        # for want of a database leaves nothing behind.
        settings = from_env(secret=False)
        if args.command != "copy":  # copy names both its databases
            check_database(settings, args)
        settings = with_secret(settings)
        if hasattr(args, "sync"):
            result: int = args.sync(args, settings)
            return result
        return asyncio.run(with_store(settings, args.run, args))
    except StoreUnavailable as exc:
        print(f"firstmark: {exc.message}", file=sys.stderr)
        return 3
    except ConfigError as exc:
        print(f"firstmark: {exc.message}", file=sys.stderr)
        return 2
    except InvalidFile as exc:
        print(f"firstmark: {exc.message}", file=sys.stderr)
        for error in exc.errors:
            print(f"  row {error.row}, {error.column}: {error.message}", file=sys.stderr)
        return 1
    except FirstmarkError as exc:
        where = f"{exc.field}: " if exc.field else ""
        print(f"firstmark: {where}{exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
