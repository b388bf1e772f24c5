"""SQLite: the sums reports are made of (mixed into SQLiteStore).

Traffic comes from the daily rollups (rollup_day) joined to the links' UTM tags, so reports
work in whole days, conversions from the
conversions table (credited to their last non-direct touch when they were stored), journeys
from the touches of each converting visitor or click token.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiosqlite

from firstmark.domain.reports import ConversionTotal, Credits, CreditTotal, Journey, TrafficTotal
from firstmark.store.rows.events import (
    CREDIT_COLUMNS,
    JOURNEY_CONVERSIONS,
    JOURNEY_STEP,
    JOURNEY_WINDOW,
    UNCREDITED,
    conversion_totals_from_rows,
    conversions_source,
    credit_params,
    credit_totals_from_rows,
    credit_totals_query,
    day_span,
    dimension_columns,
    journeys_from_rows,
    merge_steps,
    report_dimensions,
    traffic_from_rows,
    traffic_query,
)

REPORT_DIMENSIONS = report_dimensions("CAST(c.ts / 86400 AS INTEGER)")


def _dimensions(dims: Sequence[str], side: int) -> tuple[str, str]:
    """(select list with a trailing comma, GROUP BY list) of report dimensions for one table
    (side 0: links, side 1: conversions)."""
    columns = dimension_columns(REPORT_DIMENSIONS, dims, side)
    return "".join(f"{c}, " for c in columns), ", ".join(columns)


class SQLiteReports:
    """Needs the host store's `_all` and `_transaction`."""

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def _transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        raise NotImplementedError

    async def save_credits(self, credits: Sequence[Credits]) -> None:
        """Store conversions' credits and mark them credited, in one transaction."""
        if not credits:
            return
        marks = ", ".join("?" * len(CREDIT_COLUMNS))
        async with self._transaction() as conn:
            await conn.executemany(
                f"INSERT INTO attribution_credits ({', '.join(CREDIT_COLUMNS)}) "
                f"VALUES ({marks}) ON CONFLICT DO NOTHING",
                credit_params(credits),
            )
            await conn.executemany(
                "INSERT INTO credited (conversion_id) VALUES (?) ON CONFLICT DO NOTHING",
                [(c.conversion_id,) for c in credits],
            )

    async def credit_totals(
        self, dims: Sequence[str], start: float, end: float, currency: str | None
    ) -> list[CreditTotal]:
        rows = await self._all(
            # positional marks in the order they appear: the currency in SELECT comes first
            credit_totals_query(dims, ("?", "?", "?", "?")),
            (currency, start, end, currency),
        )
        return credit_totals_from_rows(rows, len(dims))

    async def traffic_totals(
        self, dims: Sequence[str], start: float, end: float
    ) -> list[TrafficTotal]:
        select, group = _dimensions(dims, 0)
        rows = await self._all(
            traffic_query(select, dims, "?", "?") + (f" GROUP BY {group}" if group else ""),
            day_span(start, end),
        )
        return traffic_from_rows(rows, len(dims))

    async def conversion_totals(
        self, dims: Sequence[str], start: float, end: float
    ) -> list[ConversionTotal]:
        select, group = _dimensions(dims, 1)
        rows = await self._all(
            f"SELECT {select}c.currency, count(*), coalesce(sum(c.value), 0) "
            f"{conversions_source([select])} WHERE c.ts >= ? AND c.ts < ? GROUP BY "
            + (f"{group}, " if group else "")
            + "c.currency",
            (start, end),
        )
        return conversion_totals_from_rows(rows, len(dims))

    async def conversion_journeys(
        self, start: float, end: float, uncredited: bool = False
    ) -> list[Journey]:
        """Every conversion in [start, end) (only those without stored credits when
        `uncredited`) with the touches of its visitor or click token inside its goal's window,
        oldest first."""
        skip = UNCREDITED if uncredited else ""
        conversions = await self._all(
            f"{JOURNEY_CONVERSIONS} WHERE c.ts >= ? AND c.ts < ?{skip} ORDER BY c.id",
            (start, end),
        )
        if not conversions:
            return []  # nothing new to share out: the touches need not be read at all
        step, window = JOURNEY_STEP, JOURNEY_WINDOW
        by_visitor = await self._all(
            f"SELECT {step} FROM conversions c JOIN goals g ON g.id = c.goal_id "
            f"JOIN touches t ON t.visitor_id = c.visitor_id AND {window} "
            f"WHERE c.ts >= ? AND c.ts < ? AND c.visitor_id IS NOT NULL{skip} ORDER BY c.id, t.ts",
            (start, end),
        )
        # CROSS JOIN keeps the order: from the few conversions with a token to their touches.
        by_token = await self._all(
            f"SELECT {step} FROM conversions c JOIN goals g ON g.id = c.goal_id "
            f"CROSS JOIN touches t ON t.click_token = c.click_token AND {window} "
            f"WHERE c.ts >= ? AND c.ts < ? AND c.click_token IS NOT NULL{skip}",
            (start, end),
        )
        touches = merge_steps(by_visitor, by_token)
        return journeys_from_rows(conversions, touches)
