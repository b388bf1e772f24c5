"""How the shared SQL (sql/executor.py) runs on SQLite: reads on the read connections,
writes on the one writer, statements as written."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import aiosqlite

from firstmark.errors import StoreUnavailable
from firstmark.store.sql.executor import Conn, Dialect, Row, Violation

if TYPE_CHECKING:
    from firstmark.store.sqlite.store import SQLiteStore


def unavailable(path: str, exc: Exception) -> StoreUnavailable:
    return StoreUnavailable(f"cannot use the database {path}: {exc}")


def violation(exc: sqlite3.IntegrityError) -> Violation | None:
    """A unique or foreign key violation in shared words, from SQLite's message
    ("UNIQUE constraint failed: links.domain, links.code"); None for any other."""
    text = str(exc)
    if text.startswith("UNIQUE constraint failed: "):
        names = [n.strip().partition(".") for n in text.split(": ", 1)[1].split(",")]
        tables = {table for table, _, _ in names}
        table = tables.pop() if len(tables) == 1 else None
        return Violation("unique", text, table, tuple(column for _, _, column in names))
    if text.startswith("FOREIGN KEY constraint failed"):
        return Violation("foreign_key", text)
    return None


class _Violations:
    """Turns a unique or foreign key IntegrityError into a Violation as it leaves the block."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, sqlite3.IntegrityError):
            found = violation(exc)
            if found is not None:
                raise found from exc


VIOLATIONS = _Violations()
SQLITE = Dialect(
    collate="",  # BINARY, SQLite's default, already sorts by code point
    for_update="",  # the one writer's transaction (BEGIN IMMEDIATE) holds the whole database
    join_in_order="CROSS JOIN",  # SQLite's planner keeps a CROSS JOIN in the written order
    arrays=False,
    clock=None,  # one machine: this process's clock
    json_text="json_extract({column}, '$.{key}')",
)


class SQLiteConn:
    """The writer inside a transaction, as the shared SQL's Conn."""

    __slots__ = ("raw",)

    def __init__(self, raw: aiosqlite.Connection) -> None:
        self.raw = raw

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with VIOLATIONS:
            return list(await self.raw.execute_fetchall(sql, params))

    async def fetchrow(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = await self.fetch(sql, params)
        return rows[0][0] if rows else None

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with VIOLATIONS:
            cur = await self.raw.execute(sql, params)
        return cur.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with VIOLATIONS:
            await self.raw.executemany(sql, rows)


class SQLiteDatabase:
    """The shared SQL's Database: reads on the read connections, writes on the one writer."""

    __slots__ = ("_store",)

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._store._all(sql, params)

    async def fetchrow(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self._store._all(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = await self._store._all(sql, params)
        return rows[0][0] if rows else None

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._store._write_lock:
            try:
                with VIOLATIONS:
                    cur = await self._store.writer.execute(sql, params)
            except sqlite3.OperationalError as exc:
                raise unavailable(self._store.path, exc) from None
            count = cur.rowcount
            await cur.close()
            return count

    async def write(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with VIOLATIONS:
            return await self._store._statement(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        async with self._store._transaction() as raw:
            yield SQLiteConn(raw)
