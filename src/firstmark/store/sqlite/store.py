"""The embedded SQLite store: WAL, one writer connection (BEGIN IMMEDIATE), separate readers.

This is the engine's core: connections, transactions, migrations. The queries come from the
shared mixins in sql/ (one per aggregate, through the executor in executor.py), with this
engine's differences in the modules of the same names here: links (tags), hits (the batch
write), jobs (claims), tables (firstmark copy), calls (leases), reports (a day), events (a
failed batch names the file), outbox (claims and attempts by this process's clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from firstmark.domain.visitors import new_salt
from firstmark.errors import StoreUnavailable
from firstmark.store import schema
from firstmark.store.protocol import ChangeCallback
from firstmark.store.rows.hits import HitMemory
from firstmark.store.sql.accounts import AccountSQL
from firstmark.store.sql.audit import AuditSQL
from firstmark.store.sql.channels import ChannelSQL
from firstmark.store.sql.costs import CostSQL
from firstmark.store.sql.customers import CustomerSQL
from firstmark.store.sql.funnels import FunnelSQL
from firstmark.store.sql.privacy import PrivacySQL
from firstmark.store.sql.qr import QrSQL
from firstmark.store.sql.schema import SchemaSQL
from firstmark.store.sql.webhooks import WebhookSQL
from firstmark.store.sqlite.alerts import SQLiteAlerts
from firstmark.store.sqlite.calls import SQLiteCalls
from firstmark.store.sqlite.events import SQLiteEvents
from firstmark.store.sqlite.executor import SQLITE, SQLiteDatabase, unavailable
from firstmark.store.sqlite.heldrollups import HeldRollups
from firstmark.store.sqlite.hits import SQLiteHits
from firstmark.store.sqlite.jobs import SQLiteJobs
from firstmark.store.sqlite.links import SQLiteLinks
from firstmark.store.sqlite.openvisits import OpenVisits
from firstmark.store.sqlite.outbox import SQLiteOutbox
from firstmark.store.sqlite.paths import SQLitePaths
from firstmark.store.sqlite.reports import SQLiteReports
from firstmark.store.sqlite.retention import SQLiteRetention
from firstmark.store.sqlite.sketches import SketchCache
from firstmark.store.sqlite.tables import SQLiteTables
from firstmark.store.sqlite.visits import SQLiteVisits
from firstmark.store.sqlite.web import SQLiteWeb

READERS = 2
# The writer's own WAL checkpoints run inside its commits, which then wait for the copy and
# its fsync while clicks queue up: `firstmark serve` checkpoints from a connection of its own
# every second (checkpoint()). The writer checkpoints itself only past this many WAL pages
# (~40 MB): a CLI import, or a checkpointer held back by a long read.
WRITER_AUTOCHECKPOINT = 10_000


def sqlite_path(url: str) -> str:
    """sqlite:///./firstmark.db → ./firstmark.db; sqlite:////var/lib/fm.db → /var/lib/fm.db."""
    if not url.startswith("sqlite:///"):
        raise StoreUnavailable(f"not a SQLite URL: {url!r} (use sqlite:///path/to/file.db)")
    path = url.removeprefix("sqlite:///")
    return path or ":memory:"


def _create_private(path: str) -> None:
    """Create the database file readable by its owner only (0600, like the secret key file).
    SQLite gives the -wal and -shm files it makes later the database file's mode. An existing
    file keeps the mode its owner gave it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreUnavailable(f"cannot create the database {path}: {exc.strerror}") from None
    os.close(fd)


class SQLiteStore(
    SQLiteLinks,
    SQLiteHits,
    AccountSQL,
    SQLiteJobs,
    QrSQL,
    CostSQL,
    SQLiteReports,
    SQLitePaths,
    SQLiteCalls,
    SQLiteOutbox,
    SQLiteEvents,
    SQLiteTables,
    ChannelSQL,
    SQLiteVisits,
    FunnelSQL,
    SQLiteWeb,
    PrivacySQL,
    AuditSQL,
    SQLiteRetention,
    WebhookSQL,
    SQLiteAlerts,
    CustomerSQL,
    SchemaSQL,
):
    dialect = SQLITE
    domain_order = "rowid"  # as added
    engine = "sqlite"
    has_migrations = (
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    )

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self.timeout = timeout
        self._writer: aiosqlite.Connection | None = None
        self._checkpointer: aiosqlite.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._next_reader = itertools.cycle(range(READERS))
        self._write_lock = asyncio.Lock()
        self._hits = HitMemory()
        self._sketches = SketchCache()
        self._held = HeldRollups()
        self._open_visits = OpenVisits()
        self.db = SQLiteDatabase(self)

    # --- lifecycle ------------------------------------------------------------------------

    async def _connect(self, *, readonly: bool) -> aiosqlite.Connection:
        if self.path != ":memory:" and not readonly:
            parent = Path(self.path).parent
            if not parent.is_dir():
                raise StoreUnavailable(
                    f"cannot use the database {self.path}: {parent} does not exist"
                )
            _create_private(self.path)
        conn = await aiosqlite.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            # execute_fetchall, not execute: an unread cursor would hold a read snapshot open.
            await conn.execute_fetchall(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            if readonly:
                await conn.execute_fetchall("PRAGMA query_only = 1")
            else:
                await conn.execute_fetchall("PRAGMA journal_mode = WAL")
                await conn.execute_fetchall("PRAGMA synchronous = NORMAL")
                await conn.execute_fetchall(f"PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT}")
            await conn.execute_fetchall("PRAGMA foreign_keys = ON")
            await conn.execute_fetchall("SELECT count(*) FROM sqlite_master")
        except sqlite3.Error as exc:
            await conn.close()
            raise unavailable(self.path, exc) from None
        return conn

    async def open(self) -> None:
        try:
            self._writer = await self._connect(readonly=False)
            if self.path == ":memory:":
                return
            for _ in range(READERS):
                self._readers.append(await self._connect(readonly=True))
        except (OSError, sqlite3.Error) as exc:
            await self.close()
            raise unavailable(self.path, exc) from None
        except StoreUnavailable:
            await self.close()
            raise

    async def close(self) -> None:
        if self._writer is not None:
            # Held rollup increments: a clean stop leaves nothing for the next start to sum.
            with contextlib.suppress(StoreUnavailable):
                await self.settle_hits(force=True)
        self._held.release()
        self._open_visits.release()
        await self._save_sketches()
        if self._checkpointer is not None:
            await self._checkpointer.close()
            self._checkpointer = None
        for conn in [*self._readers, *([self._writer] if self._writer else [])]:
            await conn.close()
        self._readers = []
        self._writer = None

    async def checkpoint(self) -> None:
        """Copies the WAL back into the database from a connection of its own, PASSIVE: the
        writer and the readers never wait for it, and the writer's commits no longer pay for
        the copy and its fsync (WRITER_AUTOCHECKPOINT)."""
        if self._writer is None or self.path == ":memory:":
            return
        try:
            if self._checkpointer is None:
                self._checkpointer = await self._connect(readonly=False)
            await self._checkpointer.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:
            raise unavailable(self.path, exc) from None

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise StoreUnavailable("the store is not open")
        return self._writer

    def _reader(self) -> aiosqlite.Connection:
        if not self._readers:
            return self.writer
        return self._readers[next(self._next_reader)]

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            conn = self.writer
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise unavailable(self.path, exc) from None
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                await conn.execute("COMMIT")

    async def _save_sketches(self) -> None:
        """The first-visit sketches changed since their last save: a clean stop needs no
        replay at the next start (a failed save is replayed then)."""
        sketches = self._sketches
        if self._writer is None or not sketches.ready or not sketches.dirty:
            return
        try:
            async with self._transaction() as conn:
                await sketches.save(conn)
        except (sqlite3.Error, StoreUnavailable):
            sketches.forget()
            return
        sketches.saved()

    async def _statement(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """One write statement as its own transaction, for hot writes that fit in one: a
        single round trip to the database thread, with no BEGIN and COMMIT of their own.
        Under the write lock, so it never lands inside another caller's transaction."""
        async with self._write_lock:
            try:
                return list(await self.writer.execute_fetchall(sql, params))
            except sqlite3.OperationalError as exc:
                raise unavailable(self.path, exc) from None

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            async with self._reader().execute(sql, params) as cur:
                return list(await cur.fetchall())
        except sqlite3.OperationalError as exc:
            raise unavailable(self.path, exc) from None

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    # --- migrations -----------------------------------------------------------------------

    async def _applied(self) -> set[int]:
        await self.writer.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        async with self.writer.execute("SELECT version FROM schema_migrations") as cur:
            return {row[0] for row in await cur.fetchall()}

    async def migrate(self) -> list[str]:
        done: list[str] = []
        try:
            async with self._write_lock:
                applied = await self._applied()
                for m in schema.load("sqlite"):
                    if m.version in applied:
                        continue
                    # executescript commits first; wrap the script so it applies whole or not.
                    await self.writer.executescript(
                        f"BEGIN IMMEDIATE;\n{m.sql}\n"
                        f"INSERT INTO schema_migrations VALUES ({m.version}, '{m.name}', "
                        f"{int(time.time())});\nCOMMIT;"
                    )
                    done.append(m.label)
        except sqlite3.Error as exc:
            if self.writer.in_transaction:
                await self.writer.execute("ROLLBACK")
            raise unavailable(self.path, exc) from None
        return done

    # --- salts -----------------------------------------------------------------------------

    async def salt_for_day(self, day: int) -> bytes:
        row = await self._one("SELECT salt FROM salts WHERE day = ?", (day,))
        if row:
            return bytes(row[0])
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO salts (day, salt) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (day, new_salt()),
            )
            rows = list(await conn.execute_fetchall("SELECT salt FROM salts WHERE day = ?", (day,)))
        return bytes(rows[0][0])

    async def forget_salts(self, before_day: int) -> int:
        async with self._transaction() as conn:
            cur = await conn.execute("DELETE FROM salts WHERE day < ?", (before_day,))
            await conn.execute("DELETE FROM hit_visitors WHERE day < ?", (before_day,))
            await conn.execute("DELETE FROM visitor_sketches WHERE day < ?", (before_day,))
            return cur.rowcount

    async def watch_changes(self, callback: ChangeCallback) -> None:
        """One SQLite database serves one node: edits made through it invalidate the cache
        directly, and the cache TTL covers edits made by the CLI."""
