"""The rollup refresher of `firstmark serve`: every few seconds, on one node, it rebuilds the
days the event writer changed of each web, events and funnel rollup a report has read, so
reports find them warm instead of rebuilding first (ADR 0027)."""

from __future__ import annotations

import asyncio
import logging
import time

from firstmark.store import Store

log = logging.getLogger("firstmark.rollups")


async def refresh(store: Store) -> int | None:
    """One round under the refresher lock: the rollups rebuilt, or None when another node is
    refreshing."""
    async with store.rollup_lock() as mine:
        if not mine:
            return None
        return await store.refresh_rollups()


async def run_forever(store: Store, interval_s: float, max_lag_s: float) -> None:
    """Refresh every `interval_s` seconds, on every node (the lock picks one). Reports on this
    node then rebuild only marks older than `max_lag_s`: the refresher's work, should it stop."""
    store.rollup_lag_s = max_lag_s
    while True:
        started = time.monotonic()
        try:
            await refresh(store)
        except Exception:
            log.exception("rollup refresh failed")
        # A round that took longer than the interval rests as long as it took, so the
        # refresher never holds the database (SQLite: the writer) more than half the time.
        await asyncio.sleep(max(interval_s, time.monotonic() - started))
