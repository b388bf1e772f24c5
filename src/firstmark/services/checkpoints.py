"""The storage's own upkeep off the writer's path, while `firstmark serve` runs.

On SQLite a commit that crosses the WAL's checkpoint threshold copies the WAL back into the
database and fsyncs it before returning, while clicks wait for the writer; at full load that
was a tenth of the CPU of a click and the slowest of its latencies. The server checkpoints
every second from a connection of its own instead (`Store.checkpoint`), which neither the
writer nor the readers wait for, and which copies each page rewritten many times (the last
hits page, the hot rollup pages) once a second rather than once per threshold.
"""

from __future__ import annotations

import asyncio
import logging

from firstmark.errors import StoreUnavailable
from firstmark.store import Store

log = logging.getLogger("firstmark.store")

INTERVAL_S = 1.0


async def run_forever(store: Store, interval: float = INTERVAL_S) -> None:
    while True:
        try:
            await store.checkpoint()
        except StoreUnavailable as exc:  # the database is away: the writer says so too
            log.warning("checkpoint failed: %s", exc)
        except Exception:
            log.exception("checkpoint failed")
        await asyncio.sleep(interval)
