"""A SQLite store on a file for the store tests, and what a hard kill leaves of one."""

from __future__ import annotations

from pathlib import Path

from firstmark.store.sqlite.store import SQLiteStore


async def opened(path: Path) -> SQLiteStore:
    store = SQLiteStore(f"sqlite:///{path}")
    await store.open()
    await store.migrate()
    return store


async def killed(store: SQLiteStore) -> None:
    """A hard kill: the connections go with nothing written on the way out (no sketch save,
    no held rollups), and the kernel frees the holder's lock files."""
    for conn in [*store._readers, store.writer]:
        await conn.close()
    store._held.release()
    store._open_visits.release()
