"""The scheduled summary: when it goes out, the period it covers, and its figures with their
change against the period before. Pure: the clock and the report rows are passed in.

A daily summary covers yesterday (UTC) and goes out each day at the report hour; a weekly one
covers Monday to Sunday and goes out on Monday at that hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from firstmark.domain.reports import ReportRow

SCHEDULES = ("off", "daily", "weekly")
PERIODS = {"daily": "day", "weekly": "week"}  # a schedule's period
PERIOD_NAMES = ("day", "week")
TOP = 5  # campaigns and channels listed

_ONE = Decimal("0.1")


@dataclass(frozen=True, slots=True)
class Period:
    kind: str  # day | week
    start: datetime  # midnight UTC
    end: datetime  # exclusive

    @property
    def key(self) -> str:
        """What names this period's summary, so it goes out once: "week:2026-11-23"."""
        return f"{self.kind}:{self.start.date().isoformat()}"

    @property
    def label(self) -> str:
        last = (self.end - timedelta(days=1)).date()
        if self.kind == "day":
            return last.strftime("%a %d %b %Y")
        return f"{self.start:%d %b} to {last:%d %b %Y}"

    def before(self) -> Period:
        """The period just before, as long: what the changes compare with."""
        return Period(self.kind, self.start - (self.end - self.start), self.start)


def _midnight(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def last_period(kind: str, now: datetime) -> Period:
    """The last whole day (yesterday) or week (Monday to Sunday) before `now`, in UTC."""
    today = _midnight(now)
    if kind == "day":
        return Period("day", today - timedelta(days=1), today)
    if kind != "week":
        raise ValueError(f"no period {kind!r}")
    monday = today - timedelta(days=today.weekday())
    return Period("week", monday - timedelta(days=7), monday)


def next_run(schedule: str, hour: int, now: datetime) -> datetime | None:
    """When the next summary goes out after `now` (None when the schedule is off): today's or
    tomorrow's report hour, or for weekly the next Monday's."""
    if schedule == "off":
        return None
    if schedule not in PERIODS:
        raise ValueError(f"no schedule {schedule!r}")
    at = _midnight(now) + timedelta(hours=hour)
    while at <= now or (schedule == "weekly" and at.weekday() != 0):
        at += timedelta(days=1)
    return at


def change(current: Decimal | int | None, previous: Decimal | int | None) -> Decimal | None:
    """The change in percent, one decimal; None when either side has no value or the period
    before was 0 (growth from nothing has no percentage)."""
    if current is None or previous is None or not previous:
        return None
    value = (Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)
    return value.quantize(_ONE, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    label: str
    value: Decimal | int | None
    previous: Decimal | int | None
    change: Decimal | None
    money: bool = False  # shown with the currency
    lower_is_better: bool = False  # CPA: a rise is bad news

    @property
    def trend(self) -> str:
        """How the change reads: "good" or "bad" news, or "flat"."""
        if self.change is None or self.change == 0:
            return "flat"
        rising = self.change > 0
        return "good" if rising != self.lower_is_better else "bad"


def figures(current: ReportRow, previous: ReportRow) -> list[Figure]:
    """The headline numbers of a period (the totals row of a report) against the one before."""

    def fig(
        name: str,
        label: str,
        now: Decimal | int | None,
        before: Decimal | int | None,
        money: bool = False,
        lower_is_better: bool = False,
    ) -> Figure:
        return Figure(name, label, now, before, change(now, before), money, lower_is_better)

    kpi_now, kpi_before = current.kpis, previous.kpis
    return [
        fig("clicks", "Clicks", current.clicks, previous.clicks),
        fig("scans", "QR scans", current.scans, previous.scans),
        fig("calls", "Calls", current.calls, previous.calls),
        fig("visits", "Site visits", current.visits, previous.visits),
        fig("conversions", "Conversions", current.conversions, previous.conversions),
        fig("revenue", "Revenue", current.revenue, previous.revenue, money=True),
        fig("spend", "Ad spend", current.spend, previous.spend, money=True),
        fig("roas", "ROAS", kpi_now.get("roas"), kpi_before.get("roas")),
        fig("cpa", "CPA", kpi_now.get("cpa"), kpi_before.get("cpa"), True, True),
        fig(
            "conversion_rate",
            "Conversion rate %",
            kpi_now.get("conversion_rate"),
            kpi_before.get("conversion_rate"),
        ),
    ]


def top(rows: list[ReportRow], n: int = TOP) -> list[ReportRow]:
    """The rows that did most: by conversions, then revenue, then clicks and scans."""
    ranked = sorted(
        rows, key=lambda r: (r.conversions, r.revenue, r.clicks + r.scans), reverse=True
    )
    return [r for r in ranked if r.conversions or r.clicks or r.scans or r.visits][:n]
