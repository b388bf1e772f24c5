"""SQLite: the batch write of hits, one writer transaction of executemany statements (the
queries over the rollups are sql/hits.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

import aiosqlite

from firstmark.domain.hits import Hit
from firstmark.store.rows.hits import Dims, HitMemory, rollup_deltas
from firstmark.store.sql.hits import (
    DIMS_COLUMNS,
    ROLLUP_KEYS,
    HitSQL,
    add_to_rollup,
    insert_dims,
    insert_hits,
    insert_visitors,
    rollup_columns,
    rollup_rows,
)
from firstmark.store.sqlite.executor import unavailable

# SQLite allows 32,766 bound variables per statement; three per visitor row.
VISITOR_CHUNK = 10_000


def _values(width: int) -> str:
    return f"VALUES ({', '.join('?' * width)})"


_INSERT_HITS = insert_hits(_values(6))
_INSERT_DIMS = insert_dims(_values(len(DIMS_COLUMNS)))
_ROLLUPS = {t: add_to_rollup(t, _values(len(rollup_columns(t)))) for t in ROLLUP_KEYS}


class SQLiteHits(HitSQL):
    if TYPE_CHECKING:
        path: str
        _hits: HitMemory

        def _transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

    async def write_hits(self, hits: Sequence[Hit]) -> None:
        """One transaction: the hit rows, any new fact combinations, today's first-seen
        visitors, and the rollups."""
        if not hits:
            return
        memory = self._hits
        # Visitors this process has already stored today need no round trip to the database.
        keys = memory.unseen(hits)
        try:
            async with self._transaction() as conn:
                new_dims = await self._dims_ids(conn, hits)
                ids = memory.ids(hits, new_dims)
                await conn.executemany(
                    _INSERT_HITS,
                    [(h[0], h[1], h[2], h[3], i, h[14]) for h, i in zip(hits, ids, strict=True)],
                )
                first_seen: set[tuple[int, int, str]] = set()
                for start in range(0, len(keys), VISITOR_CHUNK):
                    chunk = keys[start : start + VISITOR_CHUNK]
                    rows = await conn.execute_fetchall(
                        insert_visitors("VALUES " + ", ".join(["(?, ?, ?)"] * len(chunk))),
                        [v for key in chunk for v in key],
                    )
                    first_seen.update((r[0], r[1], r[2]) for r in rows)
                deltas = rollup_deltas(hits, ids, first_seen)
                for table, values in rollup_rows(deltas):
                    await conn.executemany(_ROLLUPS[table], values)
        except sqlite3.Error as exc:
            raise unavailable(self.path, exc) from None
        memory.stored(new_dims, keys)

    async def _dims_ids(self, conn: aiosqlite.Connection, hits: Sequence[Hit]) -> dict[Dims, int]:
        """Ids of the fact combinations in a batch that this process has not seen yet; they are
        inserted when missing. The caller remembers them only once the transaction commits."""
        by_key = self._hits.missing(hits)
        if not by_key:
            return {}
        await conn.executemany(_INSERT_DIMS, [(k, *d) for k, d in by_key.items()])
        found: dict[Dims, int] = {}
        keys = list(by_key)
        for start in range(0, len(keys), VISITOR_CHUNK):
            chunk = keys[start : start + VISITOR_CHUNK]
            rows = await conn.execute_fetchall(
                f"SELECT key, id FROM hit_dims WHERE key IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            found.update((by_key[r[0]], r[1]) for r in rows)
        return found
