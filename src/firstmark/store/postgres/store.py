"""The PostgreSQL store on asyncpg: many stateless nodes on one database.

A connection pool serves reads and writes; one more connection LISTENs for link and domain
edits made by other nodes (listen.py). This is the engine's core: connections, transactions,
migrations, notifications. The queries come from the shared mixins in sql/ (one per
aggregate, through the executor in executor.py), with this engine's differences in the
modules of the same names here: links (tags), hits (the batch write), jobs (claims), tables
(firstmark copy), calls (leases), qr (notifications), costs (a lock), reports (a day), outbox
(claims and attempts by the database clock); events have none.
Connection errors become StoreUnavailable, so the writer keeps its batch and retries, and
/readyz reports the outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from firstmark.domain.visitors import new_salt
from firstmark.errors import StoreUnavailable
from firstmark.store import schema
from firstmark.store.postgres import listen as pg_listen
from firstmark.store.postgres.alerts import PostgresAlerts
from firstmark.store.postgres.calls import PostgresCalls
from firstmark.store.postgres.costs import PostgresCosts
from firstmark.store.postgres.executor import POSTGRES, PostgresDatabase, rowcount
from firstmark.store.postgres.hits import PostgresHits
from firstmark.store.postgres.jobs import PostgresJobs
from firstmark.store.postgres.links import PostgresLinks
from firstmark.store.postgres.listen import CONNECTION_ERRORS
from firstmark.store.postgres.outbox import PostgresOutbox
from firstmark.store.postgres.paths import PostgresPaths
from firstmark.store.postgres.qr import PostgresQr
from firstmark.store.postgres.reports import PostgresReports
from firstmark.store.postgres.retention import PostgresRetention
from firstmark.store.postgres.tables import LONG, PostgresTables
from firstmark.store.postgres.web import PostgresWeb
from firstmark.store.protocol import ChangeCallback
from firstmark.store.rows.hits import HitMemory
from firstmark.store.sql.accounts import AccountSQL
from firstmark.store.sql.audit import AuditSQL
from firstmark.store.sql.channels import ChannelSQL
from firstmark.store.sql.customers import CustomerSQL
from firstmark.store.sql.events import EventSQL
from firstmark.store.sql.executor import Conn
from firstmark.store.sql.funnels import FunnelSQL
from firstmark.store.sql.privacy import PrivacySQL
from firstmark.store.sql.schema import SchemaSQL
from firstmark.store.sql.visits import VisitSQL
from firstmark.store.sql.webhooks import WebhookSQL

log = logging.getLogger("firstmark.store")

# Serialises migrations when several nodes start at once.
MIGRATION_LOCK = 0x66_6D_6D_69  # "fmmi"


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, userinfo = head.partition("//")
    return f"{scheme}//{userinfo.split(':', 1)[0]}:***@{tail}"


class PostgresStore(
    PostgresLinks,
    PostgresHits,
    AccountSQL,
    PostgresJobs,
    PostgresQr,
    PostgresCosts,
    PostgresReports,
    PostgresPaths,
    PostgresCalls,
    EventSQL,
    PostgresOutbox,
    PostgresTables,
    ChannelSQL,
    VisitSQL,
    FunnelSQL,
    PostgresWeb,
    PrivacySQL,
    AuditSQL,
    PostgresRetention,
    WebhookSQL,
    PostgresAlerts,
    CustomerSQL,
    SchemaSQL,
):
    dialect = POSTGRES
    domain_order = "host"
    engine = "postgres"
    has_migrations = "SELECT to_regclass('schema_migrations') IS NOT NULL"

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        pool_size: int = 10,
        startup_wait: float = 30.0,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.pool_size = pool_size
        self.startup_wait = startup_wait
        self._pool: asyncpg.Pool | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._hits = HitMemory()
        self.db = PostgresDatabase(self)

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return StoreUnavailable(f"cannot use the database {redact(self.url)}: {why}")

    # --- lifecycle ------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, retrying with backoff for up to `startup_wait` seconds (a database that
        starts with the app is often a moment late), then fail with one clear line."""
        deadline = time.monotonic() + self.startup_wait
        delay = 0.2
        while True:
            try:
                self._pool = await asyncpg.create_pool(
                    self.url,
                    min_size=1,
                    max_size=self.pool_size,
                    timeout=self.timeout,
                    # A partitioned network hangs instead of failing: give up after the timeout
                    # so redirects fall back to the cache and the writer retries.
                    command_timeout=self.timeout,
                )
                return
            except CONNECTION_ERRORS as exc:
                if time.monotonic() + delay > deadline:
                    raise self._unavailable(exc) from None
                log.warning("database not reachable (%s); retrying in %.1f s", exc, delay)
            except (asyncpg.PostgresError, ValueError) as exc:  # bad password, no database
                raise self._unavailable(exc) from None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreUnavailable("the store is not open")
        return self._pool

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; losing the database surfaces as StoreUnavailable."""
        try:
            async with self.pool.acquire(timeout=self.timeout) as conn:
                yield conn
        except CONNECTION_ERRORS as exc:
            raise self._unavailable(exc) from None

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._conn() as conn, conn.transaction():
            yield conn

    async def _all(self, sql: str, *args: Any) -> list[Any]:
        async with self._conn() as conn:
            return list(await conn.fetch(sql, *args))

    async def _one(self, sql: str, *args: Any) -> Any:
        async with self._conn() as conn:
            return await conn.fetchrow(sql, *args)

    async def _value(self, sql: str, *args: Any) -> Any:
        async with self._conn() as conn:
            return await conn.fetchval(sql, *args)

    # --- migrations -----------------------------------------------------------------------

    async def migrate(self) -> list[str]:
        done: list[str] = []
        async with self._conn() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK, timeout=LONG)
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
                )
                applied = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
                for m in schema.load("postgres"):
                    if m.version in applied:
                        continue
                    async with conn.transaction():
                        await conn.execute(m.sql, timeout=LONG)
                        await conn.execute(
                            "INSERT INTO schema_migrations VALUES ($1, $2, $3)",
                            m.version,
                            m.name,
                            int(time.time()),
                        )
                    done.append(m.label)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        return done

    # --- change notifications -------------------------------------------------------------

    async def _changed(self, tx: Conn, kind: str, key: str) -> None:
        await pg_listen.notify(tx, kind, key)

    async def checkpoint(self) -> None:
        """PostgreSQL checkpoints on its own."""

    async def watch_changes(self, callback: ChangeCallback) -> None:
        """LISTEN for edits from every node (ours included: invalidating twice is harmless).
        A lost listening connection is re-opened; the callback then hears ("*", "") because
        notifications sent meanwhile are gone."""
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(
                pg_listen.listen(self.url, self.timeout, callback), name="firstmark-listen"
            )

    # --- salts -----------------------------------------------------------------------------

    async def salt_for_day(self, day: int) -> bytes:
        salt = await self._value("SELECT salt FROM salts WHERE day = $1", day)
        if salt is not None:
            return bytes(salt)
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO salts (day, salt) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                day,
                new_salt(),
            )
            return bytes(await conn.fetchval("SELECT salt FROM salts WHERE day = $1", day))

    async def forget_salts(self, before_day: int) -> int:
        async with self._transaction() as conn:
            status = await conn.execute("DELETE FROM salts WHERE day < $1", before_day)
            await conn.execute("DELETE FROM hit_visitors WHERE day < $1", before_day)
        return rowcount(status)
