"""The hour-by-weekday heatmap built from hourly rollups."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain.stats import WEEKDAYS, heatmap
from firstmark.store import RollupRow


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("when", "weekday", "hour"),
    [
        ("2026-11-23T00:00", "Mon", 0),  # a Monday
        ("2026-11-25T13:00", "Wed", 13),
        ("2026-11-29T23:00", "Sun", 23),
        ("1970-01-01T05:00", "Thu", 5),
    ],
)
def test_an_hour_lands_in_its_weekday_and_hour(when: str, weekday: str, hour: int) -> None:
    grid = heatmap([RollupRow(at(when), "click", 5, 2, 1)])
    assert grid[WEEKDAYS.index(weekday)][hour] == 3  # humans only
    assert sum(map(sum, grid)) == 3


def test_clicks_and_scans_add_up_and_bot_only_hours_stay_empty() -> None:
    hour = at("2026-11-24T09:00")  # Tuesday
    grid = heatmap(
        [
            RollupRow(hour, "click", 4, 0, 4),
            RollupRow(hour, "scan", 2, 0, 2),
            RollupRow(hour + 3600, "click", 3, 3, 0),
            RollupRow(hour + 7 * 86400, "click", 1, 0, 1),  # next Tuesday, same hour
        ]
    )
    assert grid[1][9] == 7
    assert grid[1][10] == 0
    assert len(grid) == 7 and all(len(row) == 24 for row in grid)


@given(st.lists(st.tuples(st.integers(0, 2_000_000), st.integers(0, 50), st.integers(0, 50))))
def test_the_grid_holds_every_human_hit(rows: list[tuple[int, int, int]]) -> None:
    rollups = [RollupRow(h * 3600, "click", a + b, b, 0) for h, a, b in rows]
    assert sum(map(sum, heatmap(rollups))) == sum(a for _, a, _ in rows)
