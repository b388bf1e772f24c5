"""PostgreSQL's alerts: one node checks at a time, under an advisory lock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from firstmark.store.postgres.turns import turn
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
        async with turn(self._conn(), ALERT_LOCK) as got:
            yield got
