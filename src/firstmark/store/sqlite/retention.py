"""SQLite: retention in bounded batches. The rows of a batch are found on a read connection
(WAL: it never waits for the writer, nor the writer for it), then deleted or cleared by key
in one short write, so the hit and event writers get the database between batches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from firstmark.domain.retention import Action, Scrub
from firstmark.store.rows.values import quote_ident
from firstmark.store.sql.retention import RetentionSQL, assignments, condition

# Tables WITHOUT ROWID, by their primary key (whose first column is the time).
_KEYS = {
    "attribution_credits": ("ts", "conversion_id", "model", "step"),
    "hit_visitors": ("link_id", "day", "visitor_day_hash"),
}


class SQLiteRetention(RetentionSQL):
    async def has_table(self, table: str) -> bool:
        found = await self.db.fetchval(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        )
        return bool(found)

    async def retention_batch(self, action: Action, cutoff: float, batch: int) -> int:
        """Delete (or clear) up to `batch` rows `action` applies to; the number it took."""
        table = quote_ident(action.table)
        key = _KEYS.get(action.table, ("rowid",))
        where, params = condition(action, cutoff)
        found = await self.db.fetch(
            f"SELECT {', '.join(key)} FROM {table} WHERE {where} LIMIT ?", (*params, batch)
        )
        if not found:
            return 0
        if len(key) == 1:
            among = f"rowid IN ({', '.join('?' * len(found))})"
            keys: list[Any] = [r[0] for r in found]
        else:
            one = f"({', '.join('?' * len(key))})"
            among = f"({', '.join(key)}) IN (VALUES {', '.join([one] * len(found))})"
            keys = [v for r in found for v in r]
        if isinstance(action, Scrub):
            sets, cleared = assignments(action)
            return await self.db.execute(
                f"UPDATE {table} SET {sets} WHERE {among}", [*cleared, *keys]
            )
        return await self.db.execute(f"DELETE FROM {table} WHERE {among}", keys)

    async def drop_old_partitions(self, table: str, cutoff: float) -> int:
        """No partitions on SQLite: nothing dropped whole."""
        return 0

    async def ensure_partitions(self, now: float) -> int:
        return 0

    @asynccontextmanager
    async def purge_lock(self) -> AsyncIterator[bool]:
        """One SQLite database serves one node: its purge job always runs."""
        yield True
