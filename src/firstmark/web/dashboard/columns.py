"""The columns of a dashboard report table: which exist, which show by default (money first),
how each cell reads, and the reader's choice from `?cols=`.

The default set fits a 1280 px screen without scrolling sideways; the others are a tick away
in the page's column chooser, which submits `cols=` so the choice stays in the URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from firstmark.domain import figures
from firstmark.domain.kpis import KPI_NAMES, NO_VALUE
from firstmark.domain.reports import ReportRow

Kind = Literal["money", "roas", "percent", "count", "decimal"]


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # a ReportRow field or a KPI name
    label: str
    kind: Kind
    calls: bool = False  # only where the table counts calls


# Every column, in the order they are shown: money and its ratios first, then volumes.
COLUMNS = (
    Column("spend", "Spend", "money"),
    Column("revenue", "Revenue", "money"),
    Column("roas", "ROAS", "roas"),
    Column("roi", "ROI", "percent"),
    Column("cpa", "CPA", "money"),
    Column("conversion_rate", "Conv. rate", "percent"),
    Column("conversions", "Conv.", "decimal"),
    Column("visitors", "Visitors", "count"),
    Column("clicks", "Clicks", "count"),
    Column("scans", "Scans", "count"),
    Column("impressions", "Impr.", "count"),
    Column("ctr", "CTR", "percent"),
    Column("cpc", "CPC", "money"),
    Column("rpv", "Rev. / visitor", "money"),
    Column("calls", "Calls", "count", calls=True),
    Column("answered_calls", "Answered", "count", calls=True),
    Column("qualified_calls", "Qualified", "count", calls=True),
    Column("cost_per_call", "Cost / call", "money", calls=True),
)
BY_KEY = {c.key: c for c in COLUMNS}
DEFAULT = ("spend", "revenue", "roas", "roi", "cpa", "conversion_rate", "conversions",
           "visitors", "clicks")  # fmt: skip
MONEY = frozenset({"spend", "revenue", "roas", "roi", "cpa", "conversion_rate"})


def choose(raw: Iterable[str]) -> tuple[tuple[str, ...], str | None]:
    """The columns asked for by `?cols=` (repeated, or comma-separated), in the table's
    order, and an error naming the unknown ones. Nothing asked for means the default set;
    nothing valid too."""
    asked = [name.strip() for value in raw for name in value.split(",") if name.strip()]
    unknown = [name for name in asked if name not in BY_KEY]
    error = None
    if unknown:
        error = f"cols: no column {', '.join(map(repr, unknown))}; choose from {', '.join(BY_KEY)}"
    chosen = tuple(c.key for c in COLUMNS if c.key in asked)
    return chosen or DEFAULT, error


def shown(chosen: Sequence[str], calls: bool) -> list[Column]:
    """The chosen columns this table has (the call columns only where calls are counted)."""
    return [BY_KEY[k] for k in chosen if calls or not BY_KEY[k].calls]


def value(row: ReportRow, key: str) -> Decimal | int | None:
    if key in KPI_NAMES:
        return row.kpis.get(key)
    found: Decimal | int | None = getattr(row, key)
    return found


def text(column: Column, number: Decimal | int | None, currency: str | None) -> str:
    """A cell as it reads: money with its currency's symbol, ROAS as a multiple, …"""
    if number is None:
        return NO_VALUE
    if column.kind == "money":
        return figures.money(number, currency)
    if column.kind == "roas":
        return figures.roas(number)
    if column.kind == "percent":
        return figures.percent(number)
    if column.kind == "decimal" and isinstance(number, Decimal):
        whole = number.to_integral_value()
        return f"{whole:,}" if number == whole else f"{number.normalize():,}"
    return f"{number:,}"


@dataclass(frozen=True, slots=True)
class Cell:
    key: str
    text: str
    change: figures.Change


def cells(
    row: ReportRow, before: ReportRow | None, columns: Sequence[Column], currency: str | None
) -> list[Cell]:
    """A row's cells, each with its change since the previous period (none without a row
    there: a campaign that did not exist before has nothing to compare with)."""
    out = []
    for column in columns:
        now = value(row, column.key)
        then = value(before, column.key) if before is not None else None
        better = figures.BETTER.get(column.key, "up")
        out.append(Cell(column.key, text(column, now, currency), figures.change(now, then, better)))
    return out
