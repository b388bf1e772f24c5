"""Turning hourly rollups into the numbers people read: totals and a gap-free time series.

Counting rules: `hits` is every recorded click and scan; `bots` are flagged bot hits;
`humans` = hits - bots; `clicks` and `scans` are human ones; `uniques` are human visitors
counted once per link per day (the daily hash cannot link days), summed over the days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from firstmark.domain.times import iso, parse_time
from firstmark.errors import InvalidField

INTERVALS = {"hour": 3600, "day": 86400}
MAX_BUCKETS = {"hour": 24 * 31, "day": 366 * 3}


class RollupLike(Protocol):
    @property
    def hour(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def hits(self) -> int: ...
    @property
    def bot_hits(self) -> int: ...
    @property
    def uniques(self) -> int: ...


@dataclass(frozen=True)
class Range:
    start: datetime
    end: datetime  # exclusive
    interval: str

    @property
    def step(self) -> int:
        return INTERVALS[self.interval]


def _is_date(value: str | None) -> bool:
    return value is not None and len(value.strip()) == 10


def parse_range(params: Mapping[str, str], now: datetime) -> Range:
    """from/to as ISO dates or date-times (a date-only `to` includes that day); default: the
    last 30 days by day, or the last 48 hours when interval=hour."""
    interval = params.get("interval") or "day"
    if interval not in INTERVALS:
        raise InvalidField("interval", "interval must be 'hour' or 'day'")
    raw_to, raw_from = params.get("to"), params.get("from")
    end = parse_time("to", raw_to) if raw_to else None
    if end is not None and _is_date(raw_to):
        end += timedelta(days=1)
    if end is None:
        end = _ceil(now, INTERVALS[interval])
    start = parse_time("from", raw_from) if raw_from else None
    if start is None:
        start = end - (timedelta(hours=48) if interval == "hour" else timedelta(days=30))
    start = _floor(start, INTERVALS[interval])
    if start >= end:
        raise InvalidField("from", "from must be earlier than to")
    buckets = (end - start).total_seconds() / INTERVALS[interval]
    if buckets > MAX_BUCKETS[interval]:
        raise InvalidField(
            "to", f"at most {MAX_BUCKETS[interval]} {interval}s per request; narrow the range"
        )
    return Range(start, end, interval)


def _floor(value: datetime, step: int) -> datetime:
    ts = int(value.timestamp())
    return datetime.fromtimestamp(ts - ts % step, UTC)


def _ceil(value: datetime, step: int) -> datetime:
    floor = _floor(value, step)
    return floor if floor == value else floor + timedelta(seconds=step)


def _empty() -> dict[str, int]:
    return {"hits": 0, "humans": 0, "bots": 0, "uniques": 0, "clicks": 0, "scans": 0}


def _add(into: dict[str, int], row: RollupLike) -> None:
    humans = row.hits - row.bot_hits
    into["hits"] += row.hits
    into["bots"] += row.bot_hits
    into["humans"] += humans
    into["uniques"] += row.uniques
    into["clicks" if row.kind == "click" else "scans"] += humans


def totals(rows: Iterable[RollupLike]) -> dict[str, int]:
    out = _empty()
    for row in rows:
        _add(out, row)
    return out


def series(rows: Iterable[RollupLike], span: Range) -> list[dict[str, object]]:
    """One point per hour or day from start to end, zeros where nothing happened."""
    start, step = int(span.start.timestamp()), span.step
    count = int((span.end.timestamp() - start) // step)
    buckets = [_empty() for _ in range(count)]
    for row in rows:
        index = (row.hour - start) // step
        if 0 <= index < count:
            _add(buckets[index], row)
    return [
        {"t": iso(datetime.fromtimestamp(start + i * step, UTC)), **bucket}
        for i, bucket in enumerate(buckets)
    ]


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def heatmap(rows: Iterable[RollupLike]) -> list[list[int]]:
    """Human hits by weekday (Monday first) by hour of day, in UTC, from hourly rollups.

    The rollups are hourly in UTC, so the grid is exact; a viewer's own time zone would need
    rollups in that zone and is left to the reader of the axis labels.
    """
    grid = [[0] * 24 for _ in WEEKDAYS]
    for row in rows:
        humans = row.hits - row.bot_hits
        if humans <= 0:
            continue
        # 1970-01-01 was a Thursday (weekday 3 with Monday = 0).
        day, hour = divmod(row.hour // 3600, 24)
        grid[(day + 3) % 7][hour] += humans
    return grid
