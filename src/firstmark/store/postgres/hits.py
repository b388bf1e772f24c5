"""PostgreSQL: the batch write of hits, one transaction of set-based statements (the queries
over the rollups are sql/hits.py).

Every statement of a batch binds whole columns as arrays and expands them with unnest(), so a
batch of 1,000 clicks is a handful of statements, not thousands. Rows that take locks (fact
combinations, visitors, rollups) are sent in key order: two nodes flushing at once then lock
shared rows in the same order and cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

import asyncpg

from firstmark.domain.hits import Hit
from firstmark.store.rows.hits import Dims, HitMemory, rollup_deltas, unique_flags
from firstmark.store.sql.hits import (
    DIMS_COLUMNS,
    HIT_COLUMNS,
    ROLLUP_KEYS,
    VISITOR_COLUMNS,
    HitSQL,
    add_to_rollup,
    insert_dims,
    insert_hits,
    insert_visitors,
    rollup_columns,
    rollup_rows,
)

# Column types for unnest; any column not named here is a bigint.
_TYPES = {
    "ts": "float8",
    "kind": "text",
    "visitor_day_hash": "text",
    "is_bot": "bool",
    "first_visit": "int2",
    **{c: "text" for c in DIMS_COLUMNS if c != "is_bot"},
}


def _unnest(columns: Sequence[str]) -> str:
    """Rows of these columns from one array parameter each."""
    casts = ", ".join(f"${n}::{_TYPES.get(c, 'bigint')}[]" for n, c in enumerate(columns, 1))
    return f"SELECT * FROM unnest({casts})"


_INSERT_HITS = insert_hits(_unnest(HIT_COLUMNS))
_INSERT_DIMS = insert_dims(_unnest(DIMS_COLUMNS))
_INSERT_VISITORS = insert_visitors(_unnest(VISITOR_COLUMNS))
_ROLLUPS = {t: add_to_rollup(t, _unnest(rollup_columns(t))) for t in ROLLUP_KEYS}


def _columns(rows: Sequence[Sequence[object]], width: int) -> list[list[object]]:
    """Rows → one list per column (for unnest), even when there are no rows."""
    return [[row[i] for row in rows] for i in range(width)]


class PostgresHits(HitSQL):
    if TYPE_CHECKING:
        _hits: HitMemory

        def _conn(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...

    async def write_hits(self, hits: Sequence[Hit], *, hold: bool = False) -> None:
        """One transaction per batch: hits, new fact combinations, first-seen visitors and
        the rollups, each one set-based statement. The rollups are never held (`hold`): other
        nodes add to them too."""
        if not hits:
            return
        memory = self._hits
        keys = sorted(memory.unseen(hits))
        async with self._conn() as conn, conn.transaction():
            new_dims = await self._dims_ids(conn, hits)
            ids = memory.ids(hits, new_dims)
            first_seen: set[tuple[int, int, str]] = set()
            if keys:
                rows = await conn.fetch(_INSERT_VISITORS, *_columns(keys, 3))
                first_seen.update((r[0], r[1], r[2]) for r in rows)
            uniques = unique_flags(hits, first_seen)
            await conn.execute(
                _INSERT_HITS,
                [h[0] for h in hits],
                [h[1] for h in hits],
                [h[2] for h in hits],
                [h[3] for h in hits],
                ids,
                [h[14] for h in hits],
                [int(u) for u in uniques],
            )
            deltas = rollup_deltas(hits, ids, uniques)
            for table, values in rollup_rows(deltas):
                await conn.execute(
                    _ROLLUPS[table], *_columns(sorted(values), len(rollup_columns(table)))
                )
        memory.stored(new_dims, keys)

    async def settle_hits(self, *, force: bool = False) -> None:
        """Nothing is held on PostgreSQL."""

    async def _dims_ids(self, conn: asyncpg.Connection, hits: Sequence[Hit]) -> dict[Dims, int]:
        by_key = self._hits.missing(hits)
        if not by_key:
            return {}
        rows = [(k, *d) for k, d in by_key.items()]
        await conn.execute(_INSERT_DIMS, *_columns(rows, len(DIMS_COLUMNS)))
        found = await conn.fetch(
            "SELECT key, id FROM hit_dims WHERE key = ANY($1::text[])", list(by_key)
        )
        return {by_key[r[0]]: r[1] for r in found}
