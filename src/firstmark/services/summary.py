"""The scheduled summary: a day's or a week's figures against the period before, the top
campaigns and channels, and the alerts raised, rendered as HTML and plain text from
templates/email/ and delivered by e-mail and the `report.summary` webhook.

The figures come from services/reports.py, the code behind the dashboard's reports, so the
summary and the Reports page cannot disagree. A summary covers the whole install.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

import jinja2

from firstmark.config import Settings
from firstmark.domain import alerts, stats, summary
from firstmark.domain.reports import ReportRow
from firstmark.domain.summary import Figure, Period
from firstmark.domain.times import iso
from firstmark.services import mail, reports, webhooks
from firstmark.store import Store

log = logging.getLogger("firstmark.summary")
EVENT = "report.summary"


@dataclass(frozen=True)
class Summary:
    period: Period
    currency: str | None  # the one money is shown in
    figures: list[Figure]
    campaigns: list[ReportRow]
    channels: list[ReportRow]
    alerts: list[alerts.Raised]


@dataclass(frozen=True)
class Sent:
    recipients: int  # e-mailed
    webhooks: int  # messages queued


def _window(period: Period) -> reports.Window:
    return reports.Window(stats.Range(period.start, period.end, "day"))


async def build(store: Store, period: Period) -> Summary:
    """The summary of `period` from the reports of it and of the period before."""
    now = await reports.table(store, (), _window(period), None)
    before = await reports.table(store, (), _window(period.before()), now.currency)
    campaigns = await reports.table(store, ("campaign",), _window(period), now.currency)
    channels = await reports.table(store, ("channel",), _window(period), now.currency)
    raised = await store.list_alerts(
        since=period.start.timestamp(), until=period.end.timestamp(), limit=50
    )
    return Summary(
        period,
        now.currency,
        summary.figures(now.total(), before.total()),
        summary.top(campaigns.rows),
        summary.top(channels.rows),
        raised,
    )


# --- rendering ----------------------------------------------------------------------------


def _load(name: str) -> str:
    return resources.files("firstmark.templates").joinpath(*name.split("/")).read_text()


def _amount(value: Decimal | int | None, currency: str | None = None) -> str:
    """A figure as the summary reads: 1,234 or 1,234.50 EUR; "—" when it has no value."""
    if value is None:
        return "—"
    if isinstance(value, Decimal) and (currency or value != value.to_integral_value()):
        text = f"{value:,.2f}" if currency else f"{value.normalize():,}"
    else:
        text = f"{int(value):,}"
    return f"{text} {currency}" if currency else text


def _figure(fig: Figure, currency: str | None) -> str:
    return _amount(fig.value, currency if fig.money else None)


def _change(fig: Figure) -> str:
    if fig.change is None:
        return "—"
    return f"{'+' if fig.change > 0 else ''}{fig.change} %"


def _key(row: ReportRow) -> str:
    value = row.key[0] if row.key else None
    return "(none)" if value in (None, "") else str(value)


def environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["amount"] = _amount
    env.filters["figure"] = _figure
    env.filters["change"] = _change
    env.filters["key"] = _key
    env.filters["ts"] = lambda ts: datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")
    return env


_HTML = environment(autoescape=True)
_TEXT = environment(autoescape=False)


def subject(s: Summary) -> str:
    what = "Daily" if s.period.kind == "day" else "Weekly"
    return f"firstmark: {what} summary, {s.period.label}"


def render(s: Summary, base_url: str) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the summary."""
    values = {"s": s, "subject": subject(s), "base_url": base_url.rstrip("/")}
    text = _TEXT.get_template("email/summary.txt").render(values)
    html = _HTML.get_template("email/summary.html").render(values)
    return subject(s), text, html


def _plain(value: Decimal | int | None) -> str | int | None:
    """JSON for a figure: counts as numbers, money and ratios as exact decimal strings."""
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(name: str, row: ReportRow) -> dict[str, Any]:
    return {
        name: None if not row.key else row.key[0],
        "clicks": row.clicks,
        "scans": row.scans,
        "visits": row.visits,
        "conversions": _plain(row.conversions),
        "revenue": _plain(row.revenue),
        "spend": _plain(row.spend),
    }


def payload(s: Summary) -> dict[str, Any]:
    """The `report.summary` webhook's data."""
    return {
        "summary": {
            "period": s.period.kind,
            "from": iso(s.period.start),
            "to": iso(s.period.end),
            "currency": s.currency,
            "figures": {
                f.name: {
                    "value": _plain(f.value),
                    "previous": _plain(f.previous),
                    "change_percent": _plain(f.change),
                }
                for f in s.figures
            },
            "top_campaigns": [_row("campaign", r) for r in s.campaigns],
            "top_channels": [_row("channel", r) for r in s.channels],
            "alerts": [alerts.to_json(a) for a in s.alerts],
        }
    }


# --- delivery -----------------------------------------------------------------------------


async def deliver(
    store: Store,
    settings: Settings,
    s: Summary,
    to: Sequence[str] | None = None,
    *,
    key: str | None = None,
) -> Sent:
    """E-mail the summary to `to` (FIRSTMARK_REPORT_TO by default) when a relay is set, and
    queue the `report.summary` webhook (under `key`: once per endpoint). mail.MailError when
    the relay fails (the webhooks are queued first)."""
    recipients = list(settings.report_to if to is None else to)
    queued = await webhooks.emit(store, EVENT, payload(s), key=key)
    if not (settings.smtp_url and recipients):
        return Sent(0, queued)
    title, text, html = render(s, settings.base_url)
    await mail.send(settings, recipients, title, text, html)
    return Sent(len(recipients), queued)


async def send_due(store: Store, settings: Settings, now: datetime) -> Sent | None:
    """Send the summary of the period that just ended, unless it was sent already (by this
    node before a restart, or by another node): None then."""
    period = summary.last_period(summary.PERIODS[settings.report_schedule], now)
    if not await store.claim_summary(period.key, now.timestamp()):
        return None
    sent = await deliver(store, settings, await build(store, period), key=period.key)
    log.info(
        "%s summary sent: %d recipient(s), %d webhook(s)",
        period.key,
        sent.recipients,
        sent.webhooks,
    )
    return sent


async def run_forever(store: Store, settings: Settings) -> None:
    """The background job of `firstmark serve`: at each scheduled time, send the summary of
    the period just over (one node sends it: the period is claimed in the database)."""
    while True:
        now = datetime.now(UTC)
        at = summary.next_run(settings.report_schedule, settings.report_hour, now)
        if at is None:
            return
        await asyncio.sleep((at - now).total_seconds())
        try:
            await send_due(store, settings, at)
        except Exception:
            log.exception("the scheduled summary could not be sent")
