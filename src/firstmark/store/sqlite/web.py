"""SQLite's spellings for web reports: the hour of a timestamp, a property of an event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from firstmark.store.sql.web import WebSQL


class SQLiteWeb(WebSQL):
    @asynccontextmanager
    async def rollup_lock(self) -> AsyncIterator[bool]:
        """One SQLite database serves one node: its refresher always runs."""
        yield True

    def hour_of(self, column: str) -> str:
        return f"CAST({column} / 3600 AS INTEGER)"  # times are positive: truncation is floor

    def prop_of(self, prop: str, alias: str = "e") -> str:
        return f"CAST(json_extract({alias}.props, '$.\"{prop}\"') AS TEXT)"

    def same(self, a: str, b: str) -> str:
        return f"{a} IS {b}"
