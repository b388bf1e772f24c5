"""Retention: counting what a data class would lose, and the record of each class's last
purge. How rows go in bounded batches (and whole months on PostgreSQL) is each engine's."""

from __future__ import annotations

from typing import Any

from firstmark.domain.retention import Action, RawTable, Scrub
from firstmark.store.rows.values import quote_ident
from firstmark.store.sql.executor import SharedSQL


def condition(action: Action, cutoff: float) -> tuple[str, list[Any]]:
    """The rows `action` applies to at `cutoff`: older, and (for a scrub) still holding
    something to clear."""
    where = f"{quote_ident(action.ts)} < ?"
    params: list[Any] = [cutoff]
    if isinstance(action, RawTable) and action.only is not None:
        column, values = action.only
        where += f" AND {quote_ident(column)} IN ({', '.join('?' * len(values))})"
        params.extend(values)
    if isinstance(action, Scrub):
        holding = []
        for column, cleared in action.columns:
            if cleared is None:
                holding.append(f"{quote_ident(column)} IS NOT NULL")
            else:
                holding.append(f"{quote_ident(column)} <> ?")
                params.append(cleared)
        where += f" AND ({' OR '.join(holding)})"
    return where, params


def assignments(action: Scrub) -> tuple[str, list[Any]]:
    cleared = [value for _, value in action.columns if value is not None]
    return ", ".join(
        f"{quote_ident(c)} = {'NULL' if v is None else '?'}" for c, v in action.columns
    ), cleared


class RetentionSQL(SharedSQL):
    async def retention_count(self, action: Action, cutoff: float) -> int:
        where, params = condition(action, cutoff)
        sql = f"SELECT count(*) FROM {quote_ident(action.table)} WHERE {where}"
        return int(await self.db.fetchval(sql, params))

    async def record_purge(self, name: str, days: int, ran_at: float, deleted: int) -> None:
        await self.db.execute(
            "INSERT INTO retention_purges (class, days, ran_at, deleted) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (class) DO UPDATE SET days = excluded.days, ran_at = excluded.ran_at, "
            "deleted = excluded.deleted",
            (name, days, ran_at, deleted),
        )

    async def last_purges(self) -> dict[str, tuple[float, int]]:
        """Each purged class: when its last purge ran, and how many rows it took."""
        rows = await self.db.fetch("SELECT class, ran_at, deleted FROM retention_purges")
        return {str(r[0]): (float(r[1]), int(r[2])) for r in rows}
