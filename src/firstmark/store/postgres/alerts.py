"""PostgreSQL's alerts: one node checks at a time, under an advisory lock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from firstmark.store.sql.alerts import AlertSQL

if TYPE_CHECKING:
    import asyncpg

ALERT_LOCK = 0x46_4D_41_4C  # "FMAL"


class PostgresAlerts(AlertSQL):
    if TYPE_CHECKING:

        def _conn(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...

    @asynccontextmanager
    async def alert_lock(self) -> AsyncIterator[bool]:
        """Whether this node runs the alert checks now (held until the block ends): another
        node checking means this one skips its turn."""
        async with self._conn() as conn:
            got = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", ALERT_LOCK))
            try:
                yield got
            finally:
                if got:
                    await conn.execute("SELECT pg_advisory_unlock($1)", ALERT_LOCK)
