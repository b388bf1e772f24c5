"""`firstmark import deals FILE --preset hubspot`: a CRM's deal export in as offline
conversions, with the report of matched and unmatched rows."""

from __future__ import annotations

import argparse
from typing import Any

from firstmark.cli.common import print_json
from firstmark.config import Settings
from firstmark.domain import deals
from firstmark.domain.clicks import ClickSigner
from firstmark.services import deals as deals_service
from firstmark.store import Store


def add_options(parser: argparse.ArgumentParser) -> None:
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
    found = deals.parse_csv(data, args.preset or "generic", args.mapping, currency=args.currency)
    report = await deals_service.import_deals(
        store,
        ClickSigner(settings.secret_key),
        found,
        action_source=args.action_source,
        dry_run=args.dry_run,
    )
    if args.json:
        print_json(report)
    else:
        print_report(report)
    return 0
