"""One way for the SQL both engines share to reach either of them.

Statements use `?` placeholders and take their parameters as one sequence; rows come back as
sequences. SQLite runs them as written; PostgreSQL rewrites the placeholders to `$1..$n`, once
per statement text. What the engines spell differently and the shared text needs (sorting by
code point, locking a row, a list of ids as one parameter, whose clock) is in `Dialect`;
whatever else differs stays in the engine's own module of the same name.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from firstmark.domain.conversions import Conversion
    from firstmark.domain.destinations import OutboxTarget

Row = Sequence[Any]


class Conn(Protocol):
    """The connection of a transaction (`Database.transaction`)."""

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    async def fetchrow(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...
    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...  # rows changed
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...


class Database(Protocol):
    """An engine's database: reads, single-statement writes, and transactions."""

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    async def fetchrow(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...
    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    # One write statement as its own transaction: the rows it changed, or those it RETURNs.
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    async def write(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    def transaction(self) -> AbstractAsyncContextManager[Conn]: ...


class Violation(Exception):
    """A write that a unique or foreign key constraint refused, in words both engines share:
    the kind ("unique" or "foreign_key"), and for a unique one its table and columns. Other
    integrity errors are the driver's own, and stay loud."""

    def __init__(
        self, kind: str, message: str, table: str | None = None, columns: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.table = table
        self.columns = columns

    def unique(self, table: str, column: str) -> bool:
        """Whether a unique key of `table` that includes `column` was violated."""
        return self.kind == "unique" and self.table == table and column in self.columns


@dataclass(frozen=True, slots=True)
class Dialect:
    """The few spellings the shared SQL takes from its engine."""

    collate: str  # after a text expression: sort by code point (SQLite's BINARY order)
    for_update: str  # after a SELECT in a transaction: lock its rows until the end
    join_in_order: str  # a join the planner must take in the written order
    arrays: bool  # a list binds as one array parameter
    clock: str | None  # the time now as SQL, when every node must read one clock
    json_text: str  # one key of a JSON text column as text: format(column=..., key=...)

    def now(self) -> tuple[str, list[Any]]:
        """The time now (epoch seconds) and its parameters: the engine's clock, or this
        process's bound as a parameter."""
        if self.clock is not None:
            return self.clock, []
        return "?", [time.time()]

    def json_field(self, column: str, key: str) -> str:
        """`column`'s JSON value at `key` as text, spelled as the expression indexes on it
        are (migration 0024); `key` is a fixed name, never user input."""
        assert key.isidentifier(), key
        return self.json_text.format(column=column, key=key)

    def among(self, column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
        """`column` is one of `ids`, and its parameters: one array where the engine has them
        (one statement text for any number of ids), else a placeholder each."""
        if self.arrays:
            return f"{column} = ANY(?::bigint[])", [list(ids)]
        return f"{column} IN ({', '.join('?' * len(ids))})", list(ids)


class SharedSQL:
    """What the shared mixins need of their engine: its database and dialect, and the hooks
    more than one aggregate calls."""

    db: Database
    dialect: Dialect
    # How old the event writer's marks (web_dirty) may be before a report rebuilds their days
    # itself: 0 (every report exact) unless the rollup refresher runs (services/rollups.py).
    rollup_lag_s: float = 0.0

    def _marked_before(self, lag_s: float) -> tuple[str, list[Any]]:
        """A condition on web_dirty: marks older than `lag_s` seconds (every mark for 0)."""
        if lag_s <= 0:
            return "", []
        clock, params = self.dialect.now()
        return f" AND marked_at <= {clock} - ?", [*params, lag_s]

    async def _refresh_funnels(self, site_id: int) -> int:
        """The rollup refresher's round for a site's funnels (the funnels define it): the
        funnels rebuilt."""
        raise NotImplementedError

    async def _changed(self, tx: Conn, kind: str, key: str) -> None:
        """Inside the editing transaction: a link ("link", code) or domain ("domain", host)
        may lead elsewhere now. PostgreSQL tells every node; one SQLite database serves one
        node, whose edits invalidate its cache directly."""

    async def _write_tags(self, tx: Conn, link_id: int, tags: Sequence[str]) -> None:
        raise NotImplementedError

    async def _insert_outbox(
        self, tx: Conn, conversion_id: int, conv: Conversion, targets: Sequence[OutboxTarget]
    ) -> int:
        """Inside a new conversion's transaction (events write it, the outbox defines it):
        its outbox rows, the ones the caller chose (`domain.destinations.outbox_targets`)."""
        raise NotImplementedError
