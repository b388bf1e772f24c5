"""Background jobs that one node runs at a time: a session advisory lock, tried, never waited
for (the node that misses it skips its turn)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg


@asynccontextmanager
async def turn(
    connection: AbstractAsyncContextManager[asyncpg.Connection], key: int
) -> AsyncIterator[bool]:
    """Whether this node holds the lock `key` (held until the block ends, on the connection
    it was taken on)."""
    async with connection as conn:
        got = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
        try:
            yield got
        finally:
            if got:
                await conn.execute("SELECT pg_advisory_unlock($1)", key)
