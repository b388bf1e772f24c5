"""PostgreSQL: imported ad costs (mixed into PostgresStore)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

from firstmark.domain.costs import CostRow, periods
from firstmark.domain.dimensions import COST_GROUPS
from firstmark.domain.reports import CostTotal
from firstmark.store.protocol import check_column, cost_params, cost_total_from_row, epoch_day

# Serialises imports, as SQLite's one writer does: two files for one period at once must not
# both empty it and then both add their rows.
COSTS_LOCK = 0x66_6D_63_6F  # "fmco"
_INSERT = (
    "INSERT INTO costs (day, source, medium, campaign, currency, spend_micros, impressions, "
    "clicks, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
)
_TEXT_GROUPS = ("source", "medium", "campaign")


class PostgresCosts:
    """Needs the host store's `_transaction` and `_all`."""

    def _transaction(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        raise NotImplementedError

    async def _all(self, sql: str, *args: Any) -> list[Any]:
        raise NotImplementedError

    async def replace_costs(self, rows: Sequence[CostRow]) -> tuple[int, int]:
        """One transaction: the file's period is emptied per channel, then its rows go in."""
        now = int(time.time())
        async with self._transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", COSTS_LOCK)
            replaced = 0
            for source, medium, first, last in periods(rows):
                replaced += await conn.fetchval(
                    "WITH gone AS (DELETE FROM costs WHERE source = $1 AND medium = $2 "
                    "AND day BETWEEN $3 AND $4 RETURNING 1) SELECT count(*) FROM gone",
                    source,
                    medium,
                    epoch_day(first),
                    epoch_day(last),
                )
            if rows:
                await conn.executemany(_INSERT, [(*cost_params(r), now) for r in rows])
        return replaced, len(rows)

    async def cost_totals(
        self, start_day: int, end_day: int, group_by: Sequence[str]
    ) -> list[CostTotal]:
        for column in group_by:
            check_column(column, COST_GROUPS, "group_by")
        keys = "".join(f"{c}, " for c in group_by)  # each one checked against COST_GROUPS
        # Text sorts by code point, as on SQLite, whatever the database's collation.
        order = "".join(f'{c} COLLATE "C", ' if c in _TEXT_GROUPS else f"{c}, " for c in group_by)
        rows = await self._all(
            f"SELECT {keys}currency, sum(spend_micros), sum(impressions), sum(clicks), "
            f"count(*) FROM costs WHERE day BETWEEN $1 AND $2 "
            f'GROUP BY {keys}currency ORDER BY {order}currency COLLATE "C"',
            start_day,
            end_day,
        )
        return [cost_total_from_row(r, len(group_by)) for r in rows]
