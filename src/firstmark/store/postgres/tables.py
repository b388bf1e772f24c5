"""PostgreSQL: whole tables for `firstmark copy`: list, dump in batches, COPY in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import asyncpg

from firstmark.store.rows.values import quote_ident
from firstmark.store.sql.tables import TableSQL

# Statements allowed to run long: migrations and whole-table copies (seconds).
LONG = 3600.0


class PostgresTables(TableSQL):
    if TYPE_CHECKING:

        def _conn(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...

    async def tables(self) -> dict[str, list[str]]:
        """Data tables of the current schema in creation order, with their columns."""
        rows = await self.db.fetch(
            "SELECT c.relname, a.attname FROM pg_class c "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE c.relkind IN ('r', 'p') AND c.relnamespace = current_schema()::regnamespace "
            "AND c.relname != 'schema_migrations' AND NOT c.relispartition "
            "ORDER BY c.oid, a.attnum"
        )
        out: dict[str, list[str]] = {}
        for table, column in rows:
            out.setdefault(table, []).append(column)
        return out

    async def dump_table(
        self, table: str, columns: Sequence[str], batch: int
    ) -> AsyncIterator[list[tuple[Any, ...]]]:
        cols = ", ".join(map(quote_ident, columns))
        async with self._conn() as conn, conn.transaction():
            rows: list[tuple[Any, ...]] = []
            async for record in conn.cursor(
                f"SELECT {cols} FROM {quote_ident(table)}", prefetch=batch, timeout=LONG
            ):
                rows.append(tuple(record))
                if len(rows) >= batch:
                    yield rows
                    rows = []
            if rows:
                yield rows

    async def load_table(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """COPY rows in, keeping their ids; identity sequences move past the highest id.
        SQLite's 0/1 become booleans where the column is one."""
        async with self._conn() as conn, conn.transaction():
            types = dict(
                await conn.fetch(
                    "SELECT attname, atttypid::regtype::text FROM pg_attribute "
                    "WHERE attrelid = $1::regclass AND attnum > 0",
                    quote_ident(table),
                )
            )
            flags = [types.get(c) == "boolean" for c in columns]
            records = [
                tuple(bool(v) if f and v is not None else v for v, f in zip(r, flags, strict=True))
                for r in rows
            ]
            await conn.copy_records_to_table(
                table, records=records, columns=list(columns), timeout=LONG
            )
            if "id" in columns and records:
                seq = await conn.fetchval(
                    "SELECT pg_get_serial_sequence($1, 'id')", quote_ident(table)
                )
                top = max(r[list(columns).index("id")] for r in records)
                if seq is not None:
                    await conn.execute(
                        f"SELECT setval($1, greatest($2, (SELECT last_value FROM {seq})))", seq, top
                    )
