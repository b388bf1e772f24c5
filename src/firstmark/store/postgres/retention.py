"""PostgreSQL: retention drops whole months of the partitioned tables (hits, events, visits:
migration 0019) and deletes the rest in bounded batches by ctid, partition by partition. One
node purges at a time (a session advisory lock)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from firstmark.domain.retention import DAY, Action, Scrub
from firstmark.store.postgres.turns import turn
from firstmark.store.rows.values import quote_ident
from firstmark.store.sql.retention import RetentionSQL, assignments, condition

PURGE_LOCK = 0x46_4D_50_55  # "FMPU": one purge at a time across nodes
PARTITIONED = ("hits", "events", "visits")
AHEAD_S = 62 * DAY  # months created ahead of time, so rows never land in the default
_MONTH = re.compile(r"_p(\d{4})(\d{2})$")


def month_start(name: str) -> float | None:
    """The start (epoch seconds) of the month a partition named <table>_pYYYYMM holds; None
    for the default partition."""
    found = _MONTH.search(name)
    if found is None:
        return None
    return datetime(int(found[1]), int(found[2]), 1, tzinfo=UTC).timestamp()


def month_end(name: str) -> float | None:
    """The end (epoch seconds, exclusive) of that month."""
    found = _MONTH.search(name)
    if found is None:
        return None
    year, month = int(found[1]), int(found[2])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, 1, tzinfo=UTC).timestamp()


class PostgresRetention(RetentionSQL):
    if TYPE_CHECKING:

        def _conn(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...

    async def has_table(self, table: str) -> bool:
        return bool(await self.db.fetchval("SELECT to_regclass(?) IS NOT NULL", (table,)))

    async def _partitions(self, table: str) -> list[str]:
        rows = await self.db.fetch(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(?) ORDER BY c.relname",
            (table,),
        )
        return [str(r[0]) for r in rows]

    async def retention_batch(self, action: Action, cutoff: float, batch: int) -> int:
        """Delete (or clear) up to `batch` rows `action` applies to; the number it took.
        On a partitioned table each partition is taken in turn (a ctid names a row within
        one table only)."""
        for table in await self._partitions(action.table) or [action.table]:
            start = month_start(table)
            if start is not None and start >= cutoff:
                continue  # a month after the cutoff holds nothing to take
            where, params = condition(action, cutoff)
            doomed = (
                f"ctid = ANY(ARRAY(SELECT ctid FROM {quote_ident(table)} WHERE {where} LIMIT ?))"
            )
            if isinstance(action, Scrub):
                sets, cleared = assignments(action)
                sql = f"UPDATE {quote_ident(table)} SET {sets} WHERE {doomed}"
                args: list[Any] = [*cleared, *params, batch]
            else:
                sql = f"DELETE FROM {quote_ident(table)} WHERE {doomed}"
                args = [*params, batch]
            taken = await self.db.execute(sql, args)
            if taken:
                return taken
        return 0

    async def drop_old_partitions(self, table: str, cutoff: float) -> int:
        """Drop the months of `table` that end before `cutoff`; the rows they held."""
        dropped = 0
        for name in await self._partitions(table):
            end = month_end(name)
            if end is None or end > cutoff:
                continue
            async with self.db.transaction() as tx:
                rows = int(await tx.fetchval(f"SELECT count(*) FROM {quote_ident(name)}"))
                await tx.execute(f"DROP TABLE {quote_ident(name)}")
            dropped += rows
        return dropped

    async def ensure_partitions(self, now: float) -> int:
        """Create this month's and the next two months' partitions where missing."""
        made = 0
        for table in PARTITIONED:
            if await self._partitions(table):
                made += int(
                    await self.db.fetchval(
                        "SELECT firstmark_month_partitions(?, ?, ?)", (table, now, now + AHEAD_S)
                    )
                )
        return made

    @asynccontextmanager
    async def purge_lock(self) -> AsyncIterator[bool]:
        """Whether this node holds the purge lock (held until the block ends): another node
        purging now means this one skips its turn."""
        async with turn(self._conn(), PURGE_LOCK) as got:
            yield got
