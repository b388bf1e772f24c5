"""SQLite's spellings for web reports: the hour of a timestamp, a property of an event."""

from __future__ import annotations

from firstmark.store.sql.web import WebSQL


class SQLiteWeb(WebSQL):
    def hour_of(self, column: str) -> str:
        return f"CAST({column} / 3600 AS INTEGER)"  # times are positive: truncation is floor

    def prop_of(self, prop: str) -> str:
        return f"CAST(json_extract(e.props, '$.\"{prop}\"') AS TEXT)"

    def same(self, a: str, b: str) -> str:
        return f"{a} IS {b}"
