"""Report periods: the one before a range, and the ranges a date picker offers.

Dates are UTC days, as everywhere in reports; `to` is the last day shown (inclusive), as
in the pages' `?from=&to=`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from firstmark.domain.stats import Range


def previous(span: Range) -> Range:
    """The period of the same length that ends where `span` starts."""
    length = span.end - span.start
    return Range(span.start - length, span.start, span.interval)


@dataclass(frozen=True, slots=True)
class Preset:
    key: str
    label: str
    start: date
    last: date  # inclusive

    @property
    def dates(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.last.isoformat()}


def presets(today: date) -> list[Preset]:
    """Today, the last 7, 30 and 90 days (today included), this month so far, last month."""
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    return [
        Preset("today", "Today", today, today),
        Preset("7d", "7 days", today - timedelta(days=6), today),
        Preset("30d", "30 days", today - timedelta(days=29), today),
        Preset("90d", "90 days", today - timedelta(days=89), today),
        Preset("month", "This month", first, today),
        Preset("last_month", "Last month", last_month_end.replace(day=1), last_month_end),
    ]
