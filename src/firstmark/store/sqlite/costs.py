"""SQLite: imported ad costs (mixed into SQLiteStore)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiosqlite

from firstmark.domain.costs import CostRow, periods
from firstmark.domain.dimensions import COST_GROUPS
from firstmark.domain.reports import CostTotal
from firstmark.store.protocol import check_column, cost_params, cost_total_from_row, epoch_day

_INSERT = (
    "INSERT INTO costs (day, source, medium, campaign, currency, spend_micros, impressions, "
    "clicks, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class SQLiteCosts:
    """Needs the host store's `_transaction` and `_all`."""

    def _transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        raise NotImplementedError

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def replace_costs(self, rows: Sequence[CostRow]) -> tuple[int, int]:
        """One transaction: the file's period is emptied per channel, then its rows go in."""
        now = int(time.time())
        async with self._transaction() as conn:
            replaced = 0
            for source, medium, first, last in periods(rows):
                cur = await conn.execute(
                    "DELETE FROM costs WHERE source = ? AND medium = ? AND day BETWEEN ? AND ?",
                    (source, medium, epoch_day(first), epoch_day(last)),
                )
                replaced += cur.rowcount
            await conn.executemany(_INSERT, [(*cost_params(r), now) for r in rows])
        return replaced, len(rows)

    async def cost_totals(
        self, start_day: int, end_day: int, group_by: Sequence[str]
    ) -> list[CostTotal]:
        for column in group_by:
            check_column(column, COST_GROUPS, "group_by")
        keys = "".join(f"{c}, " for c in group_by)  # each one checked against COST_GROUPS
        rows = await self._all(
            f"SELECT {keys}currency, sum(spend_micros), sum(impressions), sum(clicks), "
            f"count(*) FROM costs WHERE day BETWEEN ? AND ? "
            f"GROUP BY {keys}currency ORDER BY {keys}currency",
            (start_day, end_day),
        )
        return [cost_total_from_row(r, len(group_by)) for r in rows]
