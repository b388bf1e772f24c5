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
from firstmark.cli.common import Commands, with_store
from firstmark.config import from_env
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="firstmark", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"firstmark {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = from_env()
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
