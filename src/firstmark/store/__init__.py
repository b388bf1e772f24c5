"""Storage: the Store protocol and its engines. Only this package writes SQL."""

from __future__ import annotations

from firstmark.errors import StoreUnavailable
from firstmark.store.base import Store


def create_store(url: str, *, timeout: float = 5.0) -> Store:
    """The engine for a FIRSTMARK_DATABASE_URL (not yet opened)."""
    if url.startswith("sqlite:"):
        from firstmark.store.sqlite import SQLiteStore

        return SQLiteStore(url, timeout=timeout)
    raise StoreUnavailable(
        f"unsupported database URL {url.split('://', 1)[0]}://…: this version supports sqlite:///"
    )
