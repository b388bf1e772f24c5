"""What both engines answer alike about their schema: the migrations still to apply, and
whether the database answers at all. Applying migrations is each engine's own."""

from __future__ import annotations

from firstmark.store import schema
from firstmark.store.sql.executor import SharedSQL


class SchemaSQL(SharedSQL):
    engine: str  # its migrations are migrations/<engine>/
    # Whether schema_migrations exists (a true value or a false one), without creating it.
    has_migrations: str

    async def pending_migrations(self) -> list[str]:
        """Read-only (it backs /readyz): a database never migrated has every migration pending."""
        applied: set[int] = set()
        if await self.db.fetchval(self.has_migrations):
            applied = {r[0] for r in await self.db.fetch("SELECT version FROM schema_migrations")}
        return schema.pending(self.engine, applied)

    async def ping(self) -> None:
        await self.db.fetchval("SELECT 1")
