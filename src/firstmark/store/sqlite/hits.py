"""SQLite: the batch write of hits, one writer transaction of executemany statements (the
queries over the rollups are sql/hits.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

import aiosqlite

from firstmark.domain.hits import Hit
from firstmark.domain.sketches import first_visits
from firstmark.store.rows.hits import Dims, HitMemory, rollup_deltas, unique_flags, visitor_keys
from firstmark.store.sql.hits import (
    DIMS_COLUMNS,
    HIT_COLUMNS,
    ROLLUP_KEYS,
    HitSQL,
    add_to_rollup,
    insert_dims,
    insert_hits,
    rollup_columns,
    rollup_rows,
)
from firstmark.store.sqlite.executor import unavailable
from firstmark.store.sqlite.heldrollups import HeldRollups
from firstmark.store.sqlite.sketches import SketchCache

# SQLite allows 32,766 bound variables per statement.
CHUNK = 10_000


def _values(width: int) -> str:
    return f"VALUES ({', '.join('?' * width)})"


_INSERT_HITS = insert_hits(_values(len(HIT_COLUMNS)))
_INSERT_DIMS = insert_dims(_values(len(DIMS_COLUMNS)))
_ROLLUPS = {t: add_to_rollup(t, _values(len(rollup_columns(t)))) for t in ROLLUP_KEYS}


class SQLiteHits(HitSQL):
    if TYPE_CHECKING:
        path: str
        _hits: HitMemory
        _sketches: SketchCache
        _held: HeldRollups

        def _transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

    async def write_hits(self, hits: Sequence[Hit], *, hold: bool = False) -> None:
        """One transaction: the hit rows, any new fact combinations, and the rollups, with
        today's first visits told by the writer's day sketches (sketches.py), which are saved
        with a batch every few seconds. With `hold`, and if this process holds (one per
        database), the rollup increments wait in memory for up to HOLD_S (heldrollups.py)."""
        if not hits:
            return
        memory, sketches, held = self._hits, self._sketches, self._held
        holding = hold and held.claim(self.path)
        keys = visitor_keys(hits)
        saving = writing = False
        try:
            async with self._transaction() as conn:
                await sketches.prepare(conn, keys)
                if holding and not held.ready:
                    await held.recover(conn)
                new_dims = await self._dims_ids(conn, hits)
                ids = memory.ids(hits, new_dims)
                uniques = unique_flags(hits, first_visits(keys, sketches.get))
                await conn.executemany(
                    _INSERT_HITS,
                    [
                        (h[0], h[1], h[2], h[3], i, h[14], u)
                        for h, i, u in zip(hits, ids, uniques, strict=True)
                    ],
                )
                if holding:
                    await held.pend(conn, len(hits))
                    held.add(hits, ids, uniques)
                    writing = held.due()
                else:
                    deltas = rollup_deltas(hits, ids, uniques)
                    for table, values in rollup_rows(deltas):
                        await conn.executemany(_ROLLUPS[table], values)
                if writing:
                    await held.write(conn, _ROLLUPS)
                if sketches.due():
                    saving = True
                    await sketches.save(conn)
        except BaseException as exc:
            # The sketches learnt visitors whose rows are not stored, and the held increments
            # may count them: both are rebuilt from the database before the next batch.
            sketches.forget()
            held.forget()
            if isinstance(exc, sqlite3.Error):
                raise unavailable(self.path, exc) from None
            raise
        memory.stored(new_dims, [])
        if saving:
            sketches.saved()
        if writing:
            held.written()

    async def settle_hits(self, *, force: bool = False) -> None:
        """Writes the held rollup increments once due (or at once with `force`): the writer
        calls it when idle, so a report lags the last click by about HOLD_S at most."""
        held = self._held
        if not held.deltas.size() or not (force or held.due()):
            return
        try:
            async with self._transaction() as conn:
                await held.write(conn, _ROLLUPS)
        except BaseException as exc:
            held.forget()
            if isinstance(exc, sqlite3.Error):
                raise unavailable(self.path, exc) from None
            raise
        held.written()

    async def _dims_ids(self, conn: aiosqlite.Connection, hits: Sequence[Hit]) -> dict[Dims, int]:
        """Ids of the fact combinations in a batch that this process has not seen yet; they are
        inserted when missing. The caller remembers them only once the transaction commits."""
        by_key = self._hits.missing(hits)
        if not by_key:
            return {}
        await conn.executemany(_INSERT_DIMS, [(k, *d) for k, d in by_key.items()])
        found: dict[Dims, int] = {}
        keys = list(by_key)
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            rows = await conn.execute_fetchall(
                f"SELECT key, id FROM hit_dims WHERE key IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            found.update((by_key[r[0]], r[1]) for r in rows)
        return found
