"""What the reports API and the dashboard both do to build a report: read the store, hand the
rows to domain/reports.py. One place, so a number on a dashboard card and the same number from
GET /api/v1/reports/… cannot drift apart (like services/links.py for links)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from firstmark.domain import attribution, groupings, reports, stats
from firstmark.domain.dimensions import COST_GROUPS
from firstmark.domain.times import iso
from firstmark.errors import InvalidField
from firstmark.services import credits
from firstmark.store import Store, epoch_day


class Window:
    """The date range of a report, as the stats API reads it (`from`/`to`, 30 days by default)."""

    def __init__(self, span: stats.Range) -> None:
        self.start, self.end = span.start.timestamp(), span.end.timestamp()
        self.first_day = epoch_day(span.start.date())
        self.last_day = epoch_day(span.end.date()) - 1  # `end` is midnight, exclusive
        self.json = {"from": iso(span.start), "to": iso(span.end)}

    @classmethod
    def of(cls, params: Mapping[str, str]) -> Window:
        return cls(stats.parse_range({**params, "interval": "day"}, datetime.now(UTC)))


@dataclass(frozen=True)
class Table:
    rows: list[reports.ReportRow]
    currency: str | None  # the currency money is shown in
    others: list[str]  # currencies also seen, left out of the money columns
    calls: bool  # whether the table counts calls (not when a dimension is one calls lack)

    def total(self) -> reports.ReportRow:
        return reports.total(self.rows, calls=self.calls)


async def table(
    store: Store, dims: tuple[str, ...], window: Window, requested: str | None
) -> Table:
    """Traffic, site visits, conversions, calls and spend by `dims`, with KPIs, in one
    currency. By channel, the store is asked by source and medium and the rows are added up
    by the channel those give."""
    asked = groupings.query_dimensions(dims)
    traffic = await store.traffic_totals(asked, window.start, window.end)
    conversions = await store.conversion_totals(asked, window.start, window.end)
    cost_dims = [d for d in asked if d in COST_GROUPS]
    costs = await store.cost_totals(window.first_day, window.last_day, cost_dims)
    calls = await call_counts(store, asked, window)
    visits = await store.visit_totals(asked, window.start, window.end)
    currency = reports.pick_currency(requested, costs, conversions)
    rows = reports.table(asked, traffic, conversions, costs, currency, calls, visits)
    if asked != dims:
        rules = await store.list_channel_rules()
        rows = groupings.collapse_rows(rows, dims, asked, rules, calls=calls is not None)
    others = reports.other_currencies(currency, costs, conversions)
    return Table(rows, currency, others, calls is not None)


async def call_counts(
    store: Store, dims: tuple[str, ...], window: Window
) -> list[reports.CallCount] | None:
    """Calls by the table's dimensions, all at once (one grouped query); None when a dimension
    is not one of a call's columns."""
    group = reports.call_group(dims)
    if group is None:
        return None
    found = await store.call_totals(group, window.start, window.end)
    return [
        reports.CallCount(
            tuple(reports.call_key(d, v) for d, v in zip(dims, t.key, strict=True)),
            t.calls,
            t.answered,
            t.qualified,
        )
        for t in found
    ]


async def comparison(
    store: Store,
    dims: tuple[str, ...],
    window: Window,
    requested: str | None,
    half_life_days: float,
) -> tuple[list[dict[str, Any]], str | None, list[str]]:
    """The five attribution models side by side: (entries, currency, other currencies).

    With the default half-life, each conversion is shared out once and its credits stored
    (by the crediting job, or here if the report comes first); the database adds them up,
    whole days from their daily rollup. Another half-life is computed on the spot."""
    conversions = await store.conversion_totals((), window.start, window.end)
    currency = reports.pick_currency(requested, [], conversions)
    others = reports.other_currencies(currency, [], conversions)
    asked = groupings.query_dimensions(dims)
    if half_life_days != attribution.DEFAULT_HALF_LIFE_DAYS:
        journeys = await store.conversion_journeys(window.start, window.end)
        entries = reports.model_comparison(journeys, asked, currency, half_life_days=half_life_days)
    else:
        # Usually done already by the crediting job (services/credits.py); a report that comes
        # first shares out those of its range itself.
        if await store.credits_pending():
            await credits.credit_range(store, window.start, window.end)
        totals = await store.credit_totals(asked, window.start, window.end, currency)
        entries = reports.comparison_from_totals(totals, asked)
    if asked != dims:
        rules = await store.list_channel_rules()
        entries = groupings.collapse_comparison(entries, dims, asked, rules)
    return entries, currency, others


def half_life(raw: str | None) -> float:
    """The time-decay half-life in days from user input; the default when not given."""
    if raw is None or raw.strip() == "":
        return attribution.DEFAULT_HALF_LIFE_DAYS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3650:
        raise InvalidField("half_life_days", "half_life_days must be a number of days, 0-3650")
    return value
