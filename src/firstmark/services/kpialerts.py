"""KPI alerts' figures: every channel and campaign, day by day over the 35 whole UTC days before
today, read with the Reports page's own code (services/reports.py), then judged by
domain/kpialerts.py off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from firstmark.config import Settings
from firstmark.domain import kpialerts, stats
from firstmark.domain.alerts import Alert
from firstmark.domain.kpialerts import BASELINE_DAYS, RECENT_DAYS, Day, Subject, Thresholds
from firstmark.domain.reports import ReportRow
from firstmark.services import reports
from firstmark.store import Store, epoch_day

DIMENSIONS = ("channel", "campaign")


def thresholds(settings: Settings) -> Thresholds:
    return Thresholds(
        p_max=settings.alert_kpi_p,
        min_change=settings.alert_kpi_min_change,
        min_conversions=settings.alert_kpi_min_conversions,
        min_traffic=settings.alert_kpi_min_traffic,
    )


def _window(start: datetime, end: datetime) -> reports.Window:
    return reports.Window(stats.Range(start, end, "day"))


def _day(row: ReportRow | None) -> Day:
    if row is None:
        return Day()
    return Day(
        traffic=row.clicks + row.scans + row.visits,
        conversions=int(row.conversions),
        revenue=float(row.revenue),
        spend=float(row.spend) if row.spend is not None else None,
    )


async def subjects(store: Store, now: float) -> list[Subject]:
    """Each channel and each named campaign: its days, and its unique visitors in each period
    (as the Reports page counts them for those dates), money in one currency."""
    today = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    recent_from = today - timedelta(days=RECENT_DAYS)
    first = recent_from - timedelta(days=BASELINE_DAYS)
    first_day = epoch_day(first.date())
    out: list[Subject] = []
    for dim in DIMENSIONS:
        daily = await reports.table(store, (dim, "day"), _window(first, today), None)
        currency = daily.currency
        before = await reports.table(store, (dim,), _window(first, recent_from), currency)
        after = await reports.table(store, (dim,), _window(recent_from, today), currency)
        rows: dict[str, dict[int, ReportRow]] = {}
        for row in daily.rows:
            name, day = row.key
            if name is not None and day is not None:
                rows.setdefault(str(name), {})[int(day) - first_day] = row
        visitors_before = {str(r.key[0]): r.visitors for r in before.rows}
        visitors_after = {str(r.key[0]): r.visitors for r in after.rows}
        for name, by_day in sorted(rows.items()):
            days = [_day(by_day.get(n)) for n in range(BASELINE_DAYS + RECENT_DAYS)]
            out.append(
                Subject(
                    dim,
                    name,
                    days[:BASELINE_DAYS],
                    days[BASELINE_DAYS:],
                    visitors_before.get(name, 0),
                    visitors_after.get(name, 0),
                    currency,
                )
            )
    return out


async def changes(store: Store, settings: Settings, now: float) -> list[Alert]:
    """The channels' and campaigns' KPIs that changed significantly (domain/kpialerts.py)."""
    found: Sequence[Subject] = await subjects(store, now)
    return await asyncio.to_thread(kpialerts.kpi_changes, found, thresholds(settings))
