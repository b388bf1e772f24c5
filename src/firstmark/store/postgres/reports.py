"""PostgreSQL: the sums reports are made of (mixed into PostgresStore).

The statements of sqlite_reports.py with PostgreSQL's day of a time (`floor`: a cast to
integer would round a conversion late in the day into the next one) and an explicit order
(SQLite returns groups sorted; PostgreSQL may hash them).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

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

REPORT_DIMENSIONS = report_dimensions("floor(c.ts / 86400)::int")
_TEXT_DIMENSIONS = ("source", "medium", "campaign", "content")


def _dimensions(dims: Sequence[str], side: int) -> tuple[str, str, str]:
    """(select list with a trailing comma, GROUP BY list, ORDER BY list with a trailing comma)
    of report dimensions for one table (side 0: links, side 1: conversions). The order is
    SQLite's: NULL first, text by code point."""
    columns = dimension_columns(REPORT_DIMENSIONS, dims, side)
    order = "".join(
        f'{c} COLLATE "C" NULLS FIRST, ' if d in _TEXT_DIMENSIONS else f"{c} NULLS FIRST, "
        for c, d in zip(columns, dims, strict=True)
    )
    return "".join(f"{c}, " for c in columns), ", ".join(columns), order


class PostgresReports:
    """Needs the host store's `_all` and `_transaction`."""

    async def _all(self, sql: str, *args: Any) -> list[Any]:
        raise NotImplementedError

    def _transaction(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        raise NotImplementedError

    async def save_credits(self, credits: Sequence[Credits]) -> None:
        """Store conversions' credits and mark them credited, in one transaction."""
        if not credits:
            return
        marks = ", ".join(f"${i}" for i in range(1, len(CREDIT_COLUMNS) + 1))
        async with self._transaction() as conn:
            await conn.executemany(
                f"INSERT INTO attribution_credits ({', '.join(CREDIT_COLUMNS)}) "
                f"VALUES ({marks}) ON CONFLICT DO NOTHING",
                credit_params(credits),
            )
            await conn.executemany(
                "INSERT INTO credited (conversion_id) VALUES ($1) ON CONFLICT DO NOTHING",
                [(c.conversion_id,) for c in credits],
            )

    async def credit_totals(
        self, dims: Sequence[str], start: float, end: float, currency: str | None
    ) -> list[CreditTotal]:
        rows = await self._all(
            credit_totals_query(dims, ("$1", "$2", "$3", "$3")), float(start), float(end), currency
        )
        return credit_totals_from_rows(rows, len(dims))

    async def traffic_totals(
        self, dims: Sequence[str], start: float, end: float
    ) -> list[TrafficTotal]:
        select, group, order = _dimensions(dims, 0)
        rows = await self._all(
            traffic_query(select, dims, "$1", "$2")
            + (f" GROUP BY {group} ORDER BY {order.removesuffix(', ')}" if group else ""),
            *day_span(start, end),
        )
        return traffic_from_rows(rows, len(dims))

    async def conversion_totals(
        self, dims: Sequence[str], start: float, end: float
    ) -> list[ConversionTotal]:
        select, group, order = _dimensions(dims, 1)
        rows = await self._all(
            f"SELECT {select}c.currency, count(*), coalesce(sum(c.value), 0) "
            f"{conversions_source([select])} WHERE c.ts >= $1 AND c.ts < $2 GROUP BY "
            + (f"{group}, " if group else "")
            + f'c.currency ORDER BY {order}c.currency COLLATE "C" NULLS FIRST',
            float(start),
            float(end),
        )
        return conversion_totals_from_rows(rows, len(dims))

    async def conversion_journeys(
        self, start: float, end: float, uncredited: bool = False
    ) -> list[Journey]:
        """Every conversion in [start, end) (only those without stored credits when
        `uncredited`) with the touches of its visitor or click token inside its goal's window,
        oldest first."""
        span = (float(start), float(end))
        skip = UNCREDITED if uncredited else ""
        conversions = await self._all(
            f"{JOURNEY_CONVERSIONS} WHERE c.ts >= $1 AND c.ts < $2{skip} ORDER BY c.id", *span
        )
        if not conversions:
            return []  # nothing new to share out: the touches need not be read at all
        by_visitor = await self._all(
            f"SELECT {JOURNEY_STEP} FROM conversions c JOIN goals g ON g.id = c.goal_id "
            f"JOIN touches t ON t.visitor_id = c.visitor_id AND {JOURNEY_WINDOW} "
            f"WHERE c.ts >= $1 AND c.ts < $2 AND c.visitor_id IS NOT NULL{skip} "
            "ORDER BY c.id, t.ts, t.id",
            *span,
        )
        by_token = await self._all(
            f"SELECT {JOURNEY_STEP} FROM conversions c JOIN goals g ON g.id = c.goal_id "
            f"JOIN touches t ON t.click_token = c.click_token AND {JOURNEY_WINDOW} "
            f"WHERE c.ts >= $1 AND c.ts < $2 AND c.click_token IS NOT NULL{skip}",
            *span,
        )
        return journeys_from_rows(conversions, merge_steps(by_visitor, by_token))
