"""`firstmark report send [--period week|day] [--to ADDR] [--print]`: the summary of the last
day or week, now (what FIRSTMARK_REPORT_SCHEDULE sends on its own)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from firstmark.cli.common import Commands, group
from firstmark.config import Settings
from firstmark.domain import summary
from firstmark.services import summary as summaries
from firstmark.services.mail import MailError
from firstmark.store import Store


def _address(value: str) -> str:
    text = value.strip()
    local, at, host = text.rpartition("@")
    if not at or not local or "." not in host or any(c.isspace() or c in "<>,;" for c in text):
        raise argparse.ArgumentTypeError("must be an e-mail address such as name@example.com")
    return text


async def cmd_send(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    period = summary.last_period(args.period, datetime.now(UTC))
    built = await summaries.build(store, period)
    if args.print:
        print(summaries.render(built, settings.base_url)[2])
        return 0
    to = args.to or list(settings.report_to)
    if to and not settings.smtp_url:
        print("firstmark: FIRSTMARK_SMTP_URL is not set: nothing can be e-mailed", file=sys.stderr)
        return 2
    try:
        sent = await summaries.deliver(store, settings, built, to)
    except MailError as exc:
        print(f"firstmark: {exc}", file=sys.stderr)
        return 1
    if not sent.recipients and not sent.webhooks:
        print(
            "firstmark: nothing to send to: give --to (or set FIRSTMARK_REPORT_TO) and "
            "FIRSTMARK_SMTP_URL, or subscribe a webhook endpoint to report.summary",
            file=sys.stderr,
        )
        return 1
    print(
        f"summary of {period.label}: e-mailed to {sent.recipients} recipient(s), "
        f"queued for {sent.webhooks} webhook endpoint(s)"
    )
    return 0


def register(sub: Commands) -> None:
    report = group(sub, "report", "send the daily or weekly summary now")
    send = report.add_parser(
        "send",
        help="the summary of the last whole day or week (UTC), by e-mail and webhook",
    )
    send.add_argument(
        "--period", choices=summary.PERIOD_NAMES, default="week", help="default: week"
    )
    send.add_argument(
        "--to",
        action="append",
        type=_address,
        metavar="ADDR",
        help="e-mail this address instead of FIRSTMARK_REPORT_TO (repeat for more)",
    )
    send.add_argument(
        "--print", action="store_true", help="write the HTML to stdout and send nothing"
    )
    send.set_defaults(run=cmd_send)
