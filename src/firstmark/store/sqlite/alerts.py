"""SQLite's alerts: one database serves one node, whose checker always runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from firstmark.store.sql.alerts import AlertSQL


class SQLiteAlerts(AlertSQL):
    @asynccontextmanager
    async def alert_lock(self) -> AsyncIterator[bool]:
        yield True
