"""The outbox on PostgreSQL with many claimers: every row goes to exactly one of several
workers on separate connections (as on separate nodes), a claim passes rows another claim
holds instead of waiting, and a lease that runs out on the database clock is taken over."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from test_outbox_contract import conversion, destination

from firstmark.domain.destinations import Attempt
from firstmark.store.postgres.store import PostgresStore


async def _store(url: str) -> PostgresStore:
    store = PostgresStore(url)
    await store.open()
    return store


async def _drain(store: PostgresStore, worker: str, batch: int) -> list[int]:
    """Claim and send until nothing is due; the row ids this worker handled."""
    mine: list[int] = []
    while True:
        items = await store.claim_outbox(worker, batch, lease_s=60)
        if not items:
            return mine
        await asyncio.sleep(0.002)  # "sending": the claim is committed, others go on claiming
        sent = [Attempt(i.id, "sent", http_status=200) for i in items]
        assert await store.finish_outbox(worker, sent) == len(items)
        mine += [i.id for i in items]


@pytest.mark.parametrize(("claimers", "batch"), [(2, 1), (6, 7)])
async def test_concurrent_claimers_send_each_row_once(
    pg_url: str, claimers: int, batch: int
) -> None:
    store = await _store(pg_url)
    try:
        await store.migrate()
        for name in ("meta", "ga4", "tiktok"):
            await store.insert_destination(destination(name))
        for n in range(40):
            await conversion(store, f"e-{n}")
        assert (await store.outbox_counts())["pending"] == 120
        workers = [await _store(pg_url) for _ in range(claimers)]
        try:
            handled = await asyncio.gather(
                *(_drain(w, f"node{n}", batch) for n, w in enumerate(workers))
            )
        finally:
            for w in workers:
                await w.close()
        taken = [row for mine in handled for row in mine]
        assert len(taken) == len(set(taken)) == 120  # all of them, none twice
        assert sum(1 for mine in handled if mine) >= 2, [len(m) for m in handled]
        counts = await store.outbox_counts()
        assert (counts["sent"], counts["pending"], counts["sending"]) == (120, 0, 0)
        log = [d for dest in await store.list_destinations() for d in
               await store.list_deliveries(dest.id or 0, 1000)]  # fmt: skip
        assert len(log) == 120 and {d.attempt for d in log} == {1}
    finally:
        await store.close()


async def test_a_claim_skips_rows_held_by_a_claim_in_flight(pg_url: str) -> None:
    store = await _store(pg_url)
    try:
        await store.migrate()
        await store.insert_destination(destination())
        for n in range(4):
            await conversion(store, f"e-{n}")
        holder = await asyncpg.connect(pg_url)
        try:
            async with holder.transaction():  # another node, mid-claim on the two oldest rows
                held = await holder.fetch(
                    "SELECT id FROM outbox ORDER BY id LIMIT 2 FOR UPDATE SKIP LOCKED"
                )
                started = time.monotonic()
                items = await asyncio.wait_for(store.claim_outbox("w", 10, 30), timeout=2)
                assert time.monotonic() - started < 1  # passed them by, did not wait
                assert {i.id for i in items}.isdisjoint(r[0] for r in held)
                assert len(items) == 2
        finally:
            await holder.close()
        late = await store.claim_outbox("w2", 10, 30)  # released with that claim's end
        assert [i.id for i in late] == sorted(r[0] for r in held)
    finally:
        await store.close()


async def test_an_expired_lease_is_taken_over_by_the_database_clock(pg_url: str) -> None:
    store = await _store(pg_url)
    other = await _store(pg_url)
    try:
        await store.migrate()
        dest = await store.insert_destination(destination())
        assert dest.id is not None
        await conversion(store, "e-1", sealed_client="sealed")
        [first] = await store.claim_outbox("dead-node", 10, lease_s=0.3)
        assert first.attempts == 1
        assert await other.claim_outbox("node2", 10, lease_s=60) == []  # still held
        await asyncio.sleep(0.4)
        [again] = await other.claim_outbox("node2", 10, lease_s=60)
        assert (again.id, again.attempts, again.sealed_client) == (first.id, 2, "sealed")
        # The first node wakes up: the row is no longer its own, and it logs nothing.
        assert await store.finish_outbox("dead-node", [Attempt(first.id, "sent", None, 200)]) == 0
        assert await other.finish_outbox("node2", [Attempt(first.id, "sent", None, 200)]) == 1
        assert [(d.attempt, d.status) for d in await store.list_deliveries(dest.id)] == [
            (2, "sent")
        ]
        await asyncio.sleep(0.4)
        assert await store.claim_outbox("node3", 10, lease_s=60) == []  # sent stays sent
    finally:
        await other.close()
        await store.close()
