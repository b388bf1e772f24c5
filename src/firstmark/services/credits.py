"""Sharing out new conversions off the request path (ADR 0028).

`firstmark serve` looks every `FIRSTMARK_CREDIT_INTERVAL_S` for conversions without stored
credits (new ones, or ones a late touch made stale), shares them out under the five models in
batches (the CPU work on the worker processes) and stores the credits; then it sums again the
days of the credit rollup they changed. The attribution report then only adds up.
"""

from __future__ import annotations

import asyncio
import logging

from firstmark.domain import reports
from firstmark.services import workers as pool
from firstmark.store import Store

log = logging.getLogger("firstmark.credits")

BATCH = 5_000  # conversions shared out and stored per transaction


async def credit_new(store: Store, workers: pool.Workers | None = None, batch: int = BATCH) -> int:
    """Share out every conversion without stored credits, `batch` at a time, then sum the
    changed days of the rollup; the conversions shared out. A batch is read and shared out
    while the one before it is written (by id, so the two never overlap)."""
    done, after = 0, 0
    saving: asyncio.Task[None] | None = None
    try:
        while True:
            journeys = await store.uncredited_journeys(batch, after)
            if journeys:
                found = await pool.run(workers, reports.credits_of, journeys)
                if saving is not None:
                    await saving
                saving = asyncio.create_task(store.save_credits(found))
                done, after = done + len(journeys), journeys[-1].conversion_id
            if len(journeys) < batch:
                break
    finally:
        if saving is not None:
            await saving
    await store.sum_credit_days()
    return done


async def run_forever(store: Store, workers: pool.Workers | None, interval: float) -> None:
    """The background job of `firstmark serve`: new conversions shared out every `interval`
    seconds (two counts when there are none)."""
    while True:
        try:
            if await store.credits_pending():
                done = await credit_new(store, workers)
                log.info("attribution: %d conversions shared out", done)
            else:
                await store.sum_credit_days()  # days a purge or late touch left to sum
        except Exception:
            log.exception("sharing out new conversions failed")
        await asyncio.sleep(interval)
