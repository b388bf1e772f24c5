"""`firstmark import bitly|yourls|shlink|kutt|dub FILE`: bring links over from another shortener;
`firstmark import deals FILE --preset hubspot`: a CRM's deals in as offline conversions."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from firstmark.cli.common import Commands, print_json, progress_bar
from firstmark.config import Settings
from firstmark.domain import deals, imports
from firstmark.domain.audit import CLI_ACTOR
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.links import normalise_host
from firstmark.domain.times import parse_time
from firstmark.errors import InvalidField
from firstmark.services import audit
from firstmark.services import deals as deals_service
from firstmark.services import imports as imports_service
from firstmark.services import links as links_service
from firstmark.store import Store

MAX_FILE = 64 * 2**20  # an export of 100,000 links is a few MB


def _read(path: str) -> bytes:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE:
            raise InvalidField("FILE", f"{path} is larger than {MAX_FILE // 2**20} MB")
        return file.read_bytes()
    except OSError as exc:
        raise InvalidField("FILE", f"cannot read {path}: {exc.strerror}") from None


async def cmd_import(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    if args.tool == "deals":
        return await cmd_import_deals(args, settings, store, _read(args.file))
    rows = imports.parse(args.tool, _read(args.file))
    clicks_on = parse_time("--clicks-on", args.clicks_on) if args.clicks_on else datetime.now(UTC)
    rules = links_service.policy(settings)
    host = normalise_host(args.domain, "--domain") if args.domain else ""
    outcome = await imports_service.import_links(
        store,
        rules,
        rows,
        domain="" if host == rules.default_host else host,
        clicks_on=clicks_on,
        progress=progress_bar("links"),
    )
    await audit.record(
        store,
        CLI_ACTOR,
        "import",
        "link",
        None,
        {
            "tool": args.tool,
            **{k: v for k, v in outcome.to_json().items() if k in ("imported", "clicks")},
        },
    )
    if args.json:
        print_json(outcome.to_json())
    else:
        for conflict in outcome.conflicts:
            print(f"conflict: row {conflict.row}: {conflict.message}", file=sys.stderr)
        for error in outcome.errors:
            print(f"error: row {error.row}, {error.column}: {error.message}", file=sys.stderr)
        print(
            f"imported {len(outcome.imported)} links ({outcome.clicks} historical clicks), "
            f"{len(outcome.conflicts)} conflicts, {len(outcome.errors)} errors"
        )
    return 1 if outcome.errors else 0


def add_deal_options(parser: argparse.ArgumentParser) -> None:
    """The deal options of `firstmark import` (the other tools ignore them)."""
    parser.add_argument("--preset", choices=deals.PRESETS, help="deals: the CRM (default generic)")
    parser.add_argument("--mapping", help="deals, generic preset: field=Column,field=Column")
    parser.add_argument(
        "--action-source", choices=deals.ACTION_SOURCES, default="system_generated",
        help="deals: how they happened, for Meta (default system_generated)",
    )  # fmt: skip
    parser.add_argument("--currency", help="deals: ISO 4217 code for rows that name none")
    parser.add_argument("--dry-run", action="store_true", help="deals: report, store nothing")


def print_report(report: dict[str, Any]) -> None:
    for row in report["rows"]:
        how = f"matched by {row['matched_by']}" if row["matched_by"] else "unmatched"
        print(f"row {row['row']}: deal {row['deal_id']} ({row['stage']}): {how}: {row['reason']}")
    print(
        f"{'would import' if report['dry_run'] else 'imported'} {report['imported']} conversions; "
        f"{report['matched']} rows matched, {report['unmatched']} unmatched"
    )


async def cmd_import_deals(
    args: argparse.Namespace, settings: Settings, store: Store, data: bytes
) -> int:
    preset = args.preset or "generic"
    found = deals.parse_csv(data, preset, args.mapping, currency=args.currency)
    report = await deals_service.import_deals(
        store,
        ClickSigner(settings.secret_key),
        found,
        actor=CLI_ACTOR,
        preset=preset,
        action_source=args.action_source,
        dry_run=args.dry_run,
        exempt=settings.privacy_mode == "exempt",
        progress=progress_bar("deals"),
    )
    if args.json:
        print_json(report)
    else:
        print_report(report)
    return 0


def register(sub: Commands) -> None:
    parser = sub.add_parser(
        "import",
        help="import links from another shortener, or a CRM's deals",
        description="Import links from a Bitly, YOURLS, Shlink, Kutt or Dub export, or deals "
        "from a CRM's export.",
    )
    parser.add_argument("tool", choices=(*imports.TOOLS, "deals"))
    parser.add_argument("file", help="the tool's export file")
    parser.add_argument("--domain", help="serve the imported links on this host")
    parser.add_argument(
        "--clicks-on", metavar="DATE", help="the day to count historical clicks on (default: today)"
    )
    add_deal_options(parser)
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.set_defaults(run=cmd_import)
