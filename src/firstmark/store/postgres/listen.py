"""Change notifications between nodes: NOTIFY inside the editing transaction, LISTEN on a
connection of its own (pooled connections cannot hold a LISTEN)."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from firstmark.store.protocol import ChangeCallback
from firstmark.store.sql.executor import Conn

log = logging.getLogger("firstmark.store")

CHANNEL = "firstmark_changes"
# Errors that mean "the database is not there right now", as opposed to a bad statement.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
)


async def notify(tx: Conn, kind: str, key: str) -> None:
    """Sent inside the editing transaction: delivered on commit, never for a rollback."""
    await tx.execute("SELECT pg_notify(?, ?)", (CHANNEL, f"{kind}:{key}"))


async def listen(url: str, timeout: float, callback: ChangeCallback) -> None:
    """Deliver every notification to `callback(kind, key)` until cancelled. A lost connection
    is re-opened with backoff; the callback then hears ("*", "") because notifications sent
    meanwhile are gone."""

    def deliver(conn: object, pid: int, channel: str, payload: str) -> None:
        kind, _, key = payload.partition(":")
        callback(kind, key)

    delay = 0.2
    first = True
    while True:
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(url, timeout=timeout)
            await conn.add_listener(CHANNEL, deliver)
            if not first:
                callback("*", "")
            first, delay = False, 0.2
            while not conn.is_closed():
                await asyncio.sleep(0.5)
                # A cheap query notices a dead peer that never closed the socket.
                await asyncio.wait_for(conn.execute("SELECT 1"), timeout)
        except (*CONNECTION_ERRORS, asyncpg.PostgresError) as exc:
            log.warning("change notifications interrupted (%s); reconnecting", exc)
            first = False
        finally:
            if conn is not None:
                conn.terminate()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)
