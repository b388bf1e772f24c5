"""Storage: the Store protocol and its engines. Only this package writes SQL."""

from __future__ import annotations

from firstmark.errors import StoreUnavailable
from firstmark.store.protocol import Store


def create_store(
    url: str, *, timeout: float = 5.0, pool_size: int = 10, startup_wait: float = 30.0
) -> Store:
    """The engine for a FIRSTMARK_DATABASE_URL (not yet opened). `pool_size` and
    `startup_wait` (how long to retry an unreachable server) apply to PostgreSQL."""
    if url.startswith("sqlite:"):
        from firstmark.store.sqlite.store import SQLiteStore

        return SQLiteStore(url, timeout=timeout)
    if url.startswith(("postgresql://", "postgres://")):
        from firstmark.store.postgres.store import PostgresStore

        return PostgresStore(url, timeout=timeout, pool_size=pool_size, startup_wait=startup_wait)
    raise StoreUnavailable(
        f"unsupported database URL {url.split('://', 1)[0]}://…: "
        "use sqlite:///path/to/file.db or postgresql://user@host/database"
    )
