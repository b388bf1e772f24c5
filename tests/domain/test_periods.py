"""The period before a report's range, and the date picker's presets."""

from __future__ import annotations

from datetime import UTC, date, datetime

from firstmark.domain.periods import presets, previous
from firstmark.domain.stats import Range


def test_the_previous_period_has_the_same_length_and_ends_where_the_range_starts() -> None:
    span = Range(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC), "day")
    before = previous(span)
    assert before.start == datetime(2026, 1, 30, tzinfo=UTC)
    assert before.end == span.start and before.interval == "day"


def test_presets() -> None:
    found = {p.key: p.dates for p in presets(date(2026, 3, 15))}
    assert found == {
        "today": {"from": "2026-03-15", "to": "2026-03-15"},
        "7d": {"from": "2026-03-09", "to": "2026-03-15"},
        "30d": {"from": "2026-02-14", "to": "2026-03-15"},
        "90d": {"from": "2025-12-16", "to": "2026-03-15"},
        "month": {"from": "2026-03-01", "to": "2026-03-15"},
        "last_month": {"from": "2026-02-01", "to": "2026-02-28"},
    }


def test_last_month_in_january_is_last_december() -> None:
    [last] = [p for p in presets(date(2026, 1, 1)) if p.key == "last_month"]
    assert last.dates == {"from": "2025-12-01", "to": "2025-12-31"}
