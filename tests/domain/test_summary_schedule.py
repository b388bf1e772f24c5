"""When summaries go out, which period each covers, and how the changes read."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from firstmark.domain import summary
from firstmark.domain.reports import ReportRow, total
from firstmark.domain.summary import Period


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# Wednesday 3 December 2026.
WED = utc(2026, 12, 3, 9, 30)


@pytest.mark.parametrize(
    ("schedule", "hour", "now", "expected"),
    [
        ("daily", 7, WED, utc(2026, 12, 4, 7)),  # past 07:00: tomorrow
        ("daily", 10, WED, utc(2026, 12, 3, 10)),  # later today
        ("weekly", 7, WED, utc(2026, 12, 7, 7)),  # next Monday
        ("weekly", 7, utc(2026, 12, 7, 6, 59), utc(2026, 12, 7, 7)),  # Monday, before 07:00
        ("weekly", 7, utc(2026, 12, 7, 7), utc(2026, 12, 14, 7)),  # Monday at 07:00: next week
        ("off", 7, WED, None),
    ],
)
def test_next_run(schedule: str, hour: int, now: datetime, expected: datetime | None) -> None:
    assert summary.next_run(schedule, hour, now) == expected


def test_a_run_covers_the_last_whole_day_or_week() -> None:
    day = summary.last_period("day", WED)
    assert (day.start, day.end) == (utc(2026, 12, 2), utc(2026, 12, 3))
    assert day.key == "day:2026-12-02" and day.label == "Wed 02 Dec 2026"
    week = summary.last_period("week", utc(2026, 12, 7, 7))  # Monday's run
    assert (week.start, week.end) == (utc(2026, 11, 30), utc(2026, 12, 7))
    assert week.label == "30 Nov to 06 Dec 2026"
    before = week.before()
    assert (before.start, before.end) == (utc(2026, 11, 23), week.start)


def test_change_in_percent_has_no_value_from_nothing() -> None:
    assert summary.change(150, 100) == Decimal("50.0")
    assert summary.change(Decimal("2"), Decimal("3")) == Decimal("-33.3")
    assert summary.change(5, 0) is None
    assert summary.change(None, 3) is None


def test_figures_compare_totals_and_read_cpa_rises_as_bad_news() -> None:
    def row(clicks: int, spend: str, revenue: str) -> ReportRow:
        return total(
            [
                ReportRow(
                    ("a",),
                    clicks=clicks,
                    scans=10,
                    uniques=20,
                    spend=Decimal(spend),
                    conversions=Decimal(4),
                    revenue=Decimal(revenue),
                )
            ],
            calls=True,
        )

    figs = {f.name: f for f in summary.figures(row(30, "40", "200"), row(20, "20", "100"))}
    clicks = figs["clicks"]
    assert (clicks.value, clicks.previous, clicks.change, clicks.trend) == (
        30,
        20,
        Decimal("50.0"),
        "good",
    )
    assert figs["cpa"].value == Decimal("10.00") and figs["cpa"].change == Decimal("100.0")
    assert figs["cpa"].trend == "bad"
    assert figs["roas"].value == Decimal("5.0000") and figs["roas"].change == Decimal("0.0")
    assert figs["roas"].trend == "flat"
    assert figs["calls"].value == 0 and figs["calls"].change is None


def test_top_rows_rank_by_conversions_and_leave_out_empty_ones() -> None:
    rows = [
        ReportRow(("quiet",)),
        ReportRow(("busy",), clicks=90),
        ReportRow(("sells",), clicks=5, conversions=Decimal(2)),
    ]
    assert [r.key for r in summary.top(rows)] == [("sells",), ("busy",)]


def test_period_labels_day_and_week() -> None:
    p = Period("day", utc(2026, 1, 1), utc(2026, 1, 2))
    assert p.label == "Thu 01 Jan 2026"
