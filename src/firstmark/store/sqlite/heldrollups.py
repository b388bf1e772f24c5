"""SQLite: rollup increments held between writes by the one server writing the database
(ADR 0031).

A batch of clicks adds one row to `hits` each (appended at the end of the table) but touches
a rollup row for nearly every click: the daily rollup has a row per link, day and fact
combination, spread over the whole table. Written with every batch, each commit rewrites
most of those pages. Held in memory and written about once a second, each page is written
once a second, whatever the batch size; that was most of the cost of a click written in small
batches (the writer keeps its batches small, ~25 ms of traffic, to bound what a kill loses).

Nothing acknowledged is lost meanwhile: the hit rows are stored with every batch, each with
the flag saying whether it counted as a unique (hits.first_visit), and `rollup_pending` lists
the id ranges of the hits whose increments are held. The range is written in the batch's
transaction and deleted in the one that writes the increments, so after a crash the next
holder sums those hits again. Only one process holds at a time (an advisory lock on a file
beside the database): another process writing hits (the CLI) writes its rollups with its
batch, and never sums a range that a live server still holds.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Sequence

import aiosqlite

from firstmark.domain.hits import Hit
from firstmark.store.rows.hits import Deltas, rollup_deltas
from firstmark.store.sql.hits import rollup_rows

HOLD_S = 0.25  # the longest an increment waits: what a report may lag behind the clicks
MAX_ROWS = 50_000  # rollup rows held at most (a few MB), written sooner past that

_ADD_PENDING = (
    "INSERT INTO rollup_pending (first_id, last_id) SELECT max(id) - ? + 1, max(id) FROM hits"
)
_REPLAY = (
    "SELECT h.link_id, h.ts, h.kind, h.dims_id, h.variant, h.first_visit, d.is_bot "
    "FROM hits h JOIN hit_dims d ON d.id = h.dims_id WHERE h.id BETWEEN ? AND ? ORDER BY h.id"
)


class HeldRollups:
    """Increments since the last write, and whether they are known to be complete."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.deltas = Deltas({}, {}, {})
        self.since = 0.0  # when the oldest held increment was added
        self.ready = False  # False: the pending ranges are still to be summed again
        self._lock_fd: int | None = None
        self._claimed: bool | None = None

    def claim(self, path: str) -> bool:
        """Whether this process may hold: the first to lock the file beside the database
        does, until it closes. An in-memory database has one connection: it may."""
        if self._claimed is None:
            if path == ":memory:":
                self._claimed = True
            else:
                try:
                    fd = os.open(f"{path}-rollups.lock", os.O_RDWR | os.O_CREAT, 0o600)
                except OSError:
                    self._claimed = False
                else:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError:
                        os.close(fd)
                        self._claimed = False
                    else:
                        self._lock_fd = fd
                        self._claimed = True
        return self._claimed

    def release(self) -> None:
        """At close: another process may hold from now on."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self._claimed = None

    def forget(self) -> None:
        """Drops the held increments: the next holding batch sums the pending ranges again
        (after a failed transaction, whose increments may be among them)."""
        self.deltas = Deltas({}, {}, {})
        self.ready = False

    def add(self, hits: Sequence[Hit], dims_ids: Sequence[int], uniques: Sequence[bool]) -> None:
        if not self.deltas.size():
            self.since = self.clock()
        rollup_deltas(hits, dims_ids, uniques, into=self.deltas)

    def due(self) -> bool:
        size = self.deltas.size()
        return bool(size) and (size >= MAX_ROWS or self.clock() - self.since >= HOLD_S)

    async def pend(self, conn: aiosqlite.Connection, rows: int) -> None:
        """Inside the batch's transaction, after its hits: their id range is pending. Ids
        of one transaction are consecutive (max(id) + 1 each, under the write lock)."""
        await conn.execute(_ADD_PENDING, (rows,))

    async def recover(self, conn: aiosqlite.Connection) -> None:
        """Inside a write transaction: the increments of every pending range, summed again
        from its hit rows."""
        self.forget()
        ranges = await conn.execute_fetchall("SELECT first_id, last_id FROM rollup_pending")
        for first_id, last_id in ranges:
            rows = await conn.execute_fetchall(_REPLAY, (first_id, last_id))
            if not rows:
                continue
            hits = [
                Hit(
                    link,
                    ts,
                    kind,
                    "",
                    None,
                    None,
                    None,
                    "",
                    "",
                    "",
                    None,
                    bool(bot),
                    None,
                    None,
                    variant,
                )
                for link, ts, kind, _, variant, _, bot in rows
            ]
            self.add(hits, [r[3] for r in rows], [bool(r[5]) for r in rows])
        self.ready = True

    async def write(self, conn: aiosqlite.Connection, statements: dict[str, str]) -> None:
        """Inside a write transaction: every held increment, and no range pending any more.
        `written()` once it commits."""
        for table, values in rollup_rows(self.deltas):
            if values:
                await conn.executemany(statements[table], sorted(values))
        await conn.execute("DELETE FROM rollup_pending")

    def written(self) -> None:
        self.deltas = Deltas({}, {}, {})
