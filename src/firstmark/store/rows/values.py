"""Plain values as both engines store them: times as epoch seconds, days since the epoch,
amounts; and the checks that keep names spliced into SQL safe."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from firstmark.domain.money import tidy
from firstmark.errors import InvalidField


def money(value: Any) -> Decimal:
    """A stored amount (REAL on SQLite) as an exact Decimal to the cent and beyond."""
    return tidy(Decimal(repr(float(value))).quantize(Decimal("0.000001")))


def epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def epoch(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def from_epoch(value: int | float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def quote_ident(name: str) -> str:
    """A table or column name as a quoted SQL identifier (both engines)."""
    return '"' + name.replace('"', '""') + '"'


def check_column(column: str, allowed: Sequence[str], field: str) -> None:
    if column not in allowed:
        raise InvalidField(field, f"{field} must be one of {', '.join(allowed)}")


def hour_start(t: float) -> int:
    """The start of the UTC hour of a time, as rollup_hourly keys it."""
    return int(t // 3600) * 3600


def ceil(t: float) -> int:
    """For integer columns, `col < t` is `col < ceil(t)`."""
    return -int(-t // 1)


def day_span(start: float, end: float) -> tuple[int, int]:
    """[first day, day after the last) of a time range; reports work in whole days."""
    return int(start // 86400), -int(-end // 86400)
