"""Copy a whole install from one store to another (`firstmark copy`): SQLite → PostgreSQL when a
single box grows into several nodes, or back.

Every table of the source, in creation order (so referenced rows land first), is read in
batches and written with its ids kept; the target must be migrated and empty. At the end the
row counts of both sides are compared table by table.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from firstmark.errors import FirstmarkError
from firstmark.store import Store

BATCH = 5_000


class CopyRefused(FirstmarkError):
    status = 409
    code = "copy_refused"


@dataclass(frozen=True, slots=True)
class Copied:
    table: str
    source: int
    target: int


class ProgressBar:
    """One line redrawn in place on a terminal; a line per table otherwise (logs, CI)."""

    def __init__(self, total: int, out: TextIO | None = None, width: int = 30) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.out = out or sys.stderr
        self.width = width
        self.tty = self.out.isatty()
        self._drawn = 0.0

    def advance(self, table: str, rows: int, table_done: int, table_total: int) -> None:
        self.done += rows
        now = time.monotonic()
        if self.tty and (now - self._drawn > 0.1 or self.done >= self.total):
            self._drawn = now
            filled = int(self.width * self.done / self.total)
            self.out.write(
                f"\r[{'#' * filled}{'.' * (self.width - filled)}] "
                f"{100 * self.done // self.total:3d}%  {table} {table_done:,}/{table_total:,}\033[K"
            )
            self.out.flush()

    def table_done(self, table: str, rows: int) -> None:
        if not self.tty:
            print(f"copied {table}: {rows:,} rows", file=self.out)

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")
            self.out.flush()


async def copy_store(
    source: Store,
    target: Store,
    *,
    batch: int = BATCH,
    progress: Callable[[int], ProgressBar] = ProgressBar,
) -> list[Copied]:
    """Copy every table; raises CopyRefused when the target is not empty or lacks a table or
    column, or when the counts differ afterwards."""
    tables = await source.tables()
    into = await target.tables()
    for table, columns in tables.items():
        missing = [c for c in columns if c not in into.get(table, [])]
        if table not in into or missing:
            what = f"table {table}" if table not in into else f"{table}.{missing[0]}"
            raise CopyRefused(f"the target has no {what}: migrate it to the same version first")
    for table in into:
        if await target.count_rows(table):
            raise CopyRefused(f"the target is not empty ({table} has rows); copy into a new one")
    counts = {table: await source.count_rows(table) for table in tables}
    bar = progress(sum(counts.values()))
    try:
        for table, columns in tables.items():
            done = 0
            async for rows in source.dump_table(table, columns, batch):
                await target.load_table(table, columns, rows)
                done += len(rows)
                bar.advance(table, len(rows), done, counts[table])
            bar.table_done(table, done)
    finally:
        bar.close()
    result = [Copied(t, counts[t], await target.count_rows(t)) for t in tables]
    wrong = [c for c in result if c.source != c.target]
    if wrong:
        raise CopyRefused(
            "row counts differ after the copy: "
            + ", ".join(f"{c.table} {c.source} → {c.target}" for c in wrong)
        )
    return result
