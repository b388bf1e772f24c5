"""How the shared SQL (sql/executor.py) runs on PostgreSQL: `?` placeholders become `$1..$n`
once per statement text, parameter sequences are spread into asyncpg's arguments."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import asyncpg

from firstmark.store.sql.executor import Conn, Dialect, Row, Violation

if TYPE_CHECKING:
    from firstmark.store.postgres.store import PostgresStore

# The database clock: every node reads the same time, whatever its own clock says.
NOW = "extract(epoch FROM clock_timestamp())::float8"
POSTGRES = Dialect(
    collate=' COLLATE "C"',  # the database's collation may sort '-' and '_' as SQLite does not
    for_update=" FOR UPDATE",
    join_in_order="JOIN",  # no such hint here, and a CROSS JOIN takes no ON
    arrays=True,
    clock=NOW,
    json_text="({column}::jsonb ->> '{key}')",
)
# A quoted string or name (kept as it is), or a placeholder.
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?")


@lru_cache(maxsize=2048)
def dollar(sql: str) -> str:
    """`?` placeholders as $1..$n, in order, outside quoted strings and names. PostgreSQL's
    own modules may write $n themselves (to use a parameter twice): with no `?`, the text
    stays as it is."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match[0] != "?":
            return match[0]
        count += 1
        return f"${count}"

    return _TOKEN.sub(number, sql)


def rowcount(status: str) -> int:
    """asyncpg answers 'UPDATE 3'; the last word is the row count (0 when there is none)."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


_KEY = re.compile(r"Key \(([^)]*)\)=")


class _Violations:
    """Turns a unique or foreign key violation into a Violation as it leaves the block."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, asyncpg.UniqueViolationError):
            key = _KEY.match(exc.detail or "")
            columns = tuple(c.strip() for c in key[1].split(",")) if key else ()
            raise Violation("unique", str(exc), exc.table_name, columns) from exc
        if isinstance(exc, asyncpg.ForeignKeyViolationError):
            raise Violation("foreign_key", str(exc), exc.table_name) from exc


VIOLATIONS = _Violations()


class PostgresConn:
    """A pooled connection inside a transaction, as the shared SQL's Conn."""

    __slots__ = ("raw",)

    def __init__(self, raw: asyncpg.Connection) -> None:
        self.raw = raw

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with VIOLATIONS:
            return list(await self.raw.fetch(dollar(sql), *params))

    async def fetchrow(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with VIOLATIONS:
            row: Row | None = await self.raw.fetchrow(dollar(sql), *params)
            return row

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with VIOLATIONS:
            return await self.raw.fetchval(dollar(sql), *params)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with VIOLATIONS:
            return rowcount(await self.raw.execute(dollar(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with VIOLATIONS:
            await self.raw.executemany(dollar(sql), rows)


class PostgresDatabase:
    """The shared SQL's Database: each call on a pooled connection."""

    __slots__ = ("_store",)

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._store._conn() as conn:
            return list(await conn.fetch(dollar(sql), *params))

    async def fetchrow(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._store._conn() as conn:
            row: Row | None = await conn.fetchrow(dollar(sql), *params)
            return row

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self._store._conn() as conn:
            return await conn.fetchval(dollar(sql), *params)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._store._conn() as conn:
            with VIOLATIONS:
                return rowcount(await conn.execute(dollar(sql), *params))

    async def write(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._store._conn() as conn:
            with VIOLATIONS:
                return list(await conn.fetch(dollar(sql), *params))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        async with self._store._transaction() as raw:
            yield PostgresConn(raw)
