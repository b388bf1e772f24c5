"""Sharing out new conversions off the request path (ADR 0028).

`firstmark serve` looks every `FIRSTMARK_CREDIT_INTERVAL_S` for conversions without stored
credits (new ones, or ones a late touch made stale), shares them out under the five models in
batches and stores the credits; then it sums again the days of the credit rollup they
changed. The attribution report then only adds up.

Batches go in the conversions' time order: attribution_credits is clustered by time, so a
batch's credits fill one stretch of it; in id order (an import's order) every batch touched
pages all over the table. The job and a report that comes before it has caught up take turns
through `sharing(store)`, one batch at a time, so they never share out the same conversions
side by side.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Sequence

from firstmark.domain import reports
from firstmark.domain.reports import Credits, Journey
from firstmark.store import Store

log = logging.getLogger("firstmark.credits")

BATCH = 5_000  # conversions shared out and stored per transaction
# Conversions shared out between two turns of the event loop: about 3 ms, so a redirect
# waits no longer behind the job than behind a garbage collection.
SLICE = 100

_turns: weakref.WeakKeyDictionary[Store, asyncio.Lock] = weakref.WeakKeyDictionary()


def sharing(store: Store) -> asyncio.Lock:
    """The turn to share out conversions of `store` (held for one batch at a time)."""
    lock = _turns.get(store)
    if lock is None:
        lock = _turns[store] = asyncio.Lock()
    return lock


async def share_out(journeys: Sequence[Journey]) -> list[Credits]:
    """The journeys' credits, computed here a slice at a time with a turn of the event loop
    in between. On the worker processes, sending the journeys and the ~10 credit rows each
    back cost more than the models themselves (the job took 15.8 s for 100,000 against
    12.4 s here)."""
    found: list[Credits] = []
    for start in range(0, len(journeys), SLICE):
        found += reports.credits_of(journeys[start : start + SLICE])
        await asyncio.sleep(0)
    return found


async def credit_new(store: Store, batch: int = BATCH) -> int:
    """Share out every conversion without stored credits, `batch` at a time in time order,
    then sum the changed days of the rollup; the conversions shared out."""
    done = await _share_out_batches(store, batch, None, None)
    await store.sum_credit_days()
    return done


async def credit_range(store: Store, start: float, end: float, batch: int = BATCH) -> int:
    """What a report that comes before the job has caught up does: share out the
    conversions of [start, end) still waiting, a batch at a time, taking turns with the job
    (each batch reads only what neither has shared out yet); the conversions shared out."""
    return await _share_out_batches(store, batch, (float(start), 0), float(end))


async def _share_out_batches(
    store: Store, batch: int, after: tuple[float, int] | None, before: float | None
) -> int:
    """Batches in time order from `after` (time, id) to the time `before`, each read, shared
    out and written in one turn. Only `batch` journeys are alive at a time, for a report too
    (it used to read all of its range's at once: 100,000 journeys in memory)."""
    done = 0
    while True:
        async with sharing(store):
            journeys = await store.uncredited_journeys(batch, after, before)
            if journeys:
                await store.save_credits(await share_out(journeys))
        if journeys:
            last = journeys[-1]
            done, after = done + len(journeys), (last.ts, last.conversion_id)
        if len(journeys) < batch:
            return done


async def run_forever(store: Store, interval: float) -> None:
    """The background job of `firstmark serve`: new conversions shared out every `interval`
    seconds (two counts when there are none)."""
    while True:
        try:
            if await store.credits_pending():
                done = await credit_new(store)
                log.info("attribution: %d conversions shared out", done)
            else:
                await store.sum_credit_days()  # days a purge or late touch left to sum
        except Exception:
            log.exception("sharing out new conversions failed")
        await asyncio.sleep(interval)
