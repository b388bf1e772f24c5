"""Claimable jobs (the outbox's primitive): every job goes to exactly one of many concurrent
claimers, an expired lease is reclaimed, and a worker can only finish what it still holds."""

from __future__ import annotations

import asyncio
import time

import pytest

from firstmark.store import create_store
from firstmark.store.protocol import Store


async def _claim_all(store: Store, worker: str, batch: int) -> list[int]:
    """Claim and finish until nothing is due; the ids this worker handled."""
    mine: list[int] = []
    while True:
        jobs = await store.claim_jobs("outbox", worker, batch, lease_s=60)
        if not jobs:
            return mine
        # "Send" them: the claim transaction is over, so others get their turn. (SQLite's busy
        # handler backs off in sleeps, so a claimer that never paused could starve the rest.)
        await asyncio.sleep(0.002)
        assert await store.finish_jobs(worker, [j.id for j in jobs]) == len(jobs)
        mine += [j.id for j in jobs]


@pytest.mark.parametrize(("claimers", "batch"), [(2, 1), (6, 7)])
async def test_concurrent_claimers_take_each_job_exactly_once(
    any_store: Store, claimers: int, batch: int
) -> None:
    ids = await any_store.enqueue_jobs("outbox", [f'{{"n": {n}}}' for n in range(120)])
    await any_store.enqueue_jobs("other", ["not ours"])
    # Each claimer is a store of its own (its own connections), as separate workers would be.
    stores = [create_store(any_store.url) for _ in range(claimers)]
    for store in stores:
        await store.open()
    try:
        handled = await asyncio.gather(
            *(_claim_all(s, f"w{n}", batch) for n, s in enumerate(stores))
        )
    finally:
        for store in stores:
            await store.close()
    taken = [job_id for mine in handled for job_id in mine]
    assert sorted(taken) == sorted(ids)  # all of them, none twice
    assert len(set(taken)) == len(taken)
    shares = [len(mine) for mine in handled]
    assert sum(1 for n in shares if n) >= 2, shares  # the work was really shared
    assert await any_store.claim_jobs("outbox", "late", 10, 60) == []
    other = await any_store.claim_jobs("other", "w", 10, 60)
    assert [j.payload for j in other] == ["not ours"]


async def test_an_expired_lease_is_reclaimed(any_store: Store) -> None:
    [job_id] = await any_store.enqueue_jobs("outbox", ["p"])
    [first] = await any_store.claim_jobs("outbox", "dead-worker", 5, lease_s=0.3)
    assert (first.id, first.payload, first.attempts) == (job_id, "p", 1)
    assert first.lease_until > time.time()
    assert await any_store.claim_jobs("outbox", "other", 5, lease_s=60) == []  # still held
    await asyncio.sleep(0.4)
    [again] = await any_store.claim_jobs("outbox", "other", 5, lease_s=60)
    assert (again.id, again.attempts) == (job_id, 2)
    # The first worker woke up late: the job is no longer its to finish.
    assert await any_store.finish_jobs("dead-worker", [job_id]) == 0
    assert await any_store.finish_jobs("other", [job_id]) == 1
    await asyncio.sleep(0.4)
    assert await any_store.claim_jobs("outbox", "third", 5, lease_s=60) == []  # done stays done


async def test_retry_later_and_due_times(any_store: Store) -> None:
    later = time.time() + 3600
    await any_store.enqueue_jobs("outbox", ["future"], run_at=later)
    [now_id] = await any_store.enqueue_jobs("outbox", ["now"])
    [job] = await any_store.claim_jobs("outbox", "w", 5, lease_s=60)
    assert job.payload == "now"
    assert not await any_store.retry_job("someone-else", now_id, 0)
    assert await any_store.retry_job("w", now_id, time.time() - 1)
    [again] = await any_store.claim_jobs("outbox", "w2", 5, lease_s=60)
    assert (again.id, again.attempts) == (now_id, 2)
    assert await any_store.retry_job("w2", now_id, later)
    assert await any_store.claim_jobs("outbox", "w3", 5, lease_s=60) == []
    assert await any_store.finish_jobs("w", []) == 0
