"""SQLite: whole tables for `firstmark copy`: list, dump in batches, load."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import aiosqlite

from firstmark.store.rows.values import quote_ident
from firstmark.store.sql.tables import TableSQL


class SQLiteTables(TableSQL):
    if TYPE_CHECKING:

        def _reader(self) -> aiosqlite.Connection: ...

    async def tables(self) -> dict[str, list[str]]:
        """Data tables in creation order (referenced tables come first), with their columns."""
        names = await self.db.fetch(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'schema_migrations' ORDER BY rowid"
        )
        out: dict[str, list[str]] = {}
        for (name,) in names:
            columns = await self.db.fetch(f"PRAGMA table_info({quote_ident(name)})")
            out[name] = [c[1] for c in columns]
        return out

    async def dump_table(
        self, table: str, columns: Sequence[str], batch: int
    ) -> AsyncIterator[list[tuple[Any, ...]]]:
        cols = ", ".join(map(quote_ident, columns))
        async with self._reader().execute(f"SELECT {cols} FROM {quote_ident(table)}") as cur:
            while rows := await cur.fetchmany(batch):
                yield [tuple(r) for r in rows]

    async def load_table(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        cols = ", ".join(map(quote_ident, columns))
        marks = ", ".join("?" * len(columns))
        async with self.db.transaction() as tx:
            await tx.executemany(
                f"INSERT INTO {quote_ident(table)} ({cols}) VALUES ({marks})", rows
            )
