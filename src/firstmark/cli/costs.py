"""`firstmark costs import`: an ad platform's cost export, replacing the same period."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from firstmark.cli.common import Commands, group, print_json, progress_bar
from firstmark.config import Settings
from firstmark.domain.costs import PRESETS
from firstmark.services import costs as costs_service
from firstmark.store import Store


async def cmd_costs_import(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    path: Path = args.file
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        print(f"firstmark: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    summary = await costs_service.import_file(
        store,
        data,
        args.preset,
        source=args.source,
        medium=args.medium,
        currency=args.currency,
        progress=progress_bar("cost import"),
    )
    replaced = summary["replaced"]
    if args.json:
        print_json(summary)
        return 0
    spend = ", ".join(f"{amount} {currency}" for currency, amount in summary["spend"].items())
    print(
        f"imported {summary['imported']} rows ({summary['preset']}): {spend}"
        + (f"; replaced {replaced} earlier rows of the same period" if replaced else "")
    )
    return 0


def register(sub: Commands) -> None:
    cost = group(sub, "costs", "ad costs")
    cimport = cost.add_parser(
        "import", help="import an ad platform's cost export (replaces the same period)"
    )
    cimport.add_argument("file", type=Path, help="CSV export; '-' reads stdin")
    cimport.add_argument("--preset", default="auto", choices=["auto", *PRESETS])
    cimport.add_argument("--source", help="utm_source the spend belongs to (overrides the preset)")
    cimport.add_argument("--medium", help="utm_medium the spend belongs to (overrides the preset)")
    cimport.add_argument("--currency", help="ISO 4217 code when the file has none")
    cimport.add_argument("--json", action="store_true")
    cimport.set_defaults(run=cmd_costs_import)
