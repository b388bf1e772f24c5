"""Imported ad costs, the same on both engines."""

from __future__ import annotations

import time
from collections.abc import Sequence

from firstmark.domain.costs import CostRow, periods
from firstmark.domain.dimensions import COST_GROUPS
from firstmark.domain.reports import CostTotal
from firstmark.store.rows.costs import cost_params, cost_total_from_row
from firstmark.store.rows.values import check_column, epoch_day
from firstmark.store.sql.executor import Conn, SharedSQL

_INSERT = (
    "INSERT INTO costs (day, source, medium, campaign, currency, spend_micros, impressions, "
    "clicks, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_TEXT_GROUPS = ("source", "medium", "campaign")


class CostSQL(SharedSQL):
    async def _lock_costs(self, tx: Conn) -> None:
        """Serialise imports: two files for one period at once must not both empty it and then
        both add their rows. SQLite's one writer already does."""

    async def replace_costs(self, rows: Sequence[CostRow]) -> tuple[int, int]:
        """One transaction: the file's period is emptied per channel, then its rows go in."""
        now = int(time.time())
        async with self.db.transaction() as tx:
            await self._lock_costs(tx)
            replaced = 0
            for source, medium, first, last in periods(rows):
                replaced += await tx.execute(
                    "DELETE FROM costs WHERE source = ? AND medium = ? AND day BETWEEN ? AND ?",
                    (source, medium, epoch_day(first), epoch_day(last)),
                )
            if rows:
                await tx.executemany(_INSERT, [(*cost_params(r), now) for r in rows])
        return replaced, len(rows)

    async def cost_totals(
        self, start_day: int, end_day: int, group_by: Sequence[str]
    ) -> list[CostTotal]:
        for column in group_by:
            check_column(column, COST_GROUPS, "group_by")
        keys = "".join(f"{c}, " for c in group_by)  # each one checked against COST_GROUPS
        # Text sorts by code point on both engines, whatever the database's collation.
        collate = self.dialect.collate
        order = "".join(f"{c}{collate}, " if c in _TEXT_GROUPS else f"{c}, " for c in group_by)
        rows = await self.db.fetch(
            f"SELECT {keys}currency, sum(spend_micros), sum(impressions), sum(clicks), "
            "count(*) FROM costs WHERE day BETWEEN ? AND ? "
            f"GROUP BY {keys}currency ORDER BY {order}currency{collate}",
            (start_day, end_day),
        )
        return [cost_total_from_row(r, len(group_by)) for r in rows]
