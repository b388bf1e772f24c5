"""Touch paths: the sequences of channels (or any report grouping) visitors came through, and
what the paths report makes of them (docs/attribution.md, Paths and timing).

A converting path is the journey of one conversion, the touches the attribution models share
it among (its goal's window, the same consent rules). A non-converting path is the touches of a
visitor with analytics consent who had no conversion (of the goal asked for) in the report's
range. The store hands both over already counted by distinct path, so a million visitors come
back as a few thousand rows.

Consecutive touches of the same group are one step of a path (`collapse`): three e-mails in a
row read "Email", not "Email → Email → Email". Path lengths count every touch.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from firstmark.domain import csvcells

Key = tuple[Any, ...]
CENTS = Decimal("0.01")
EPOCH = date(1970, 1, 1)
TOP = 20  # converting paths the report lists


@dataclass(frozen=True, slots=True)
class ConvertingPath:
    """Conversions whose journeys had these steps and took `days` from first touch to
    conversion (whole days), and their value in cents of the report's currency."""

    steps: tuple[Key, ...]
    days: int
    conversions: int
    units: int


@dataclass(frozen=True, slots=True)
class LostPath:
    """Visitors whose touches made these steps and who did not convert."""

    steps: tuple[Key, ...]
    journeys: int


@dataclass(frozen=True, slots=True)
class PathData:
    converting: list[ConvertingPath]
    lost: list[LostPath]

    @property
    def conversions(self) -> int:
        return sum(p.conversions for p in self.converting)

    @property
    def journeys(self) -> int:
        """Every path learned from: one per conversion, one per visitor who did not convert."""
        return self.conversions + sum(p.journeys for p in self.lost)

    def regroup(self, key: Callable[[Key], Key]) -> PathData:
        """The same paths with each step's key mapped (source and medium → channel, say)."""
        return PathData(
            [replace(p, steps=tuple(key(s) for s in p.steps)) for p in self.converting],
            [replace(p, steps=tuple(key(s) for s in p.steps)) for p in self.lost],
        )


def collapse(steps: Sequence[Hashable]) -> tuple[Any, ...]:
    """Consecutive repeats as one step."""
    out: list[Any] = []
    for step in steps:
        if not out or out[-1] != step:
            out.append(step)
    return tuple(out)


@dataclass
class PathRow:
    steps: tuple[Key, ...]
    conversions: int = 0
    journeys: int = 0  # converting and not
    units: int = 0

    @property
    def rate(self) -> float:
        return self.conversions / self.journeys if self.journeys else 0.0


@dataclass
class Distribution:
    """Conversions (and their value) by path length in touches, or by days to conversion."""

    counts: dict[int, int]
    units: dict[int, int]

    def median(self) -> float | None:
        if not self.counts:
            return None
        return statistics.fmean(self._middle())

    def _middle(self) -> list[int]:
        """The one or two middle values, found over the counts (no list of every conversion)."""
        total = sum(self.counts.values())
        middle = [(total - 1) // 2, total // 2]
        out, seen = [], 0
        for value in sorted(self.counts):
            count = self.counts[value]
            for index in middle:
                if seen <= index < seen + count:
                    out.append(value)
            seen += count
        return out


@dataclass
class Assist:
    """A group's conversions as the last touch, and those it assisted (on the path, not last)."""

    last: int = 0
    last_units: int = 0
    assisted: int = 0
    assisted_units: int = 0

    @property
    def ratio(self) -> float | None:
        """GA4's assisted / last-click ratio: above 1, the group mostly opens or nurtures."""
        return self.assisted / self.last if self.last else None


@dataclass
class PathReport:
    top: list[PathRow]
    lengths: Distribution
    days: Distribution
    assists: dict[Key, Assist]
    conversions: int
    journeys: int


def report(data: PathData, top: int = TOP) -> PathReport:
    """Top converting paths, length and time-to-conversion distributions, assisted and
    last-touch conversions per group."""
    rows: dict[tuple[Key, ...], PathRow] = {}
    lengths = Distribution({}, {})
    days = Distribution({}, {})
    assists: dict[Key, Assist] = {}
    for p in data.converting:
        steps = collapse(p.steps)
        row = rows.get(steps) or rows.setdefault(steps, PathRow(steps))
        row.conversions += p.conversions
        row.journeys += p.conversions
        row.units += p.units
        for dist, at in ((lengths, len(p.steps)), (days, max(p.days, 0))):
            dist.counts[at] = dist.counts.get(at, 0) + p.conversions
            dist.units[at] = dist.units.get(at, 0) + p.units
        last = assists.setdefault(steps[-1], Assist())
        last.last += p.conversions
        last.last_units += p.units
        for group in set(steps) - {steps[-1]}:
            assist = assists.setdefault(group, Assist())
            assist.assisted += p.conversions
            assist.assisted_units += p.units
    for lost in data.lost:
        found = rows.get(collapse(lost.steps))
        if found is not None:  # only converting paths are listed, each with its rate
            found.journeys += lost.journeys
    ranked = sorted(rows.values(), key=lambda r: (-r.conversions, -r.units, str(r.steps)))
    return PathReport(ranked[:top], lengths, days, assists, data.conversions, data.journeys)


def step_label(key: Key, dims: Sequence[str]) -> str:
    """One step as people read it: "newsletter / email", "#12" for a link."""
    parts = []
    for dim, value in zip(dims, key, strict=True):
        if value is None:
            parts.append("(none)")
        elif dim == "link":
            parts.append(f"#{value}")
        elif dim == "day":
            parts.append((EPOCH + timedelta(days=int(value))).isoformat())
        else:
            parts.append(str(value))
    return " / ".join(parts)


def path_label(steps: Iterable[Key], dims: Sequence[str]) -> str:
    return " → ".join(step_label(s, dims) for s in steps)


# --- the report as JSON and CSV ----------------------------------------------------------

TABLES = ("paths", "lengths", "days", "assisted")


def _money(units: int) -> str:
    return str(units * CENTS)


def to_json(found: PathReport, dims: Sequence[str]) -> dict[str, Any]:
    """The report's four tables (TABLES), each a list of flat rows, and their totals."""
    assisted = []
    for key, a in sorted(found.assists.items(), key=lambda kv: (-kv[1].last, -kv[1].assisted,
                                                                  repr(kv[0]))):  # fmt: skip
        row: dict[str, Any] = {
            **dict(zip(dims, key, strict=True)),
            "group": step_label(key, dims),
            "last_touch_conversions": a.last,
            "last_touch_revenue": _money(a.last_units),
            "assisted_conversions": a.assisted,
            "assisted_revenue": _money(a.assisted_units),
            "assisted_ratio": None if a.ratio is None else round(a.ratio, 4),
        }
        if "day" in dims:
            row["day"] = (EPOCH + timedelta(days=int(key[dims.index("day")]))).isoformat()
        assisted.append(row)
    return {
        "conversions": found.conversions,
        "journeys": found.journeys,
        "median_touches": found.lengths.median(),
        "median_days": found.days.median(),
        "paths": [
            {
                "path": path_label(r.steps, dims),
                "steps": [step_label(s, dims) for s in r.steps],
                "conversions": r.conversions,
                "journeys": r.journeys,
                "conversion_rate": round(r.rate, 4),
                "revenue": _money(r.units),
            }
            for r in found.top
        ],
        "lengths": _distribution(found.lengths, "touches"),
        "days": _distribution(found.days, "days"),
        "assisted": assisted,
    }


def _distribution(dist: Distribution, name: str) -> list[dict[str, Any]]:
    return [
        {name: at, "conversions": dist.counts[at], "revenue": _money(dist.units[at])}
        for at in sorted(dist.counts)
    ]


def csv_columns(table: str, dims: Sequence[str]) -> list[str]:
    if table == "paths":
        return ["path", "conversions", "journeys", "conversion_rate", "revenue"]
    if table in ("lengths", "days"):
        return ["touches" if table == "lengths" else "days", "conversions", "revenue"]
    return [*dims, "group", "last_touch_conversions", "last_touch_revenue",
            "assisted_conversions", "assisted_revenue", "assisted_ratio"]  # fmt: skip


def to_csv(report_json: dict[str, Any], table: str, dims: Sequence[str]) -> str:
    """One of the report's tables (TABLES) as CSV; no value reads as an empty cell."""
    rows: list[dict[str, Any]] = report_json[table]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = csv_columns(table, dims)
    writer.writerow(csvcells.row(names))
    for row in rows:
        writer.writerow(csvcells.row(["" if row[n] is None else row[n] for n in names]))
    return buffer.getvalue()
