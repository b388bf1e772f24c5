"""Whole tables for `firstmark copy`: what both engines ask alike (listing, dumping and loading
are each engine's)."""

from __future__ import annotations

from firstmark.store.rows.values import quote_ident
from firstmark.store.sql.executor import SharedSQL


class TableSQL(SharedSQL):
    async def count_rows(self, table: str) -> int:
        return int(await self.db.fetchval(f"SELECT count(*) FROM {quote_ident(table)}"))
