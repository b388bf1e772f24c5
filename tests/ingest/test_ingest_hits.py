"""The batched hit writer: batches, back-pressure instead of drops, retries, and a full drain."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from firstmark.domain.hits import Hit, RawHit
from firstmark.domain.links import Link
from firstmark.geo import GeoLookup
from firstmark.ingest.batch import FLOOR_ROWS
from firstmark.ingest.hits import HitWriter
from firstmark.store import Store

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"


def raw(link_id: int, n: int) -> RawHit:
    return RawHit(link_id, time.time(), "click", "fm.test", f"198.51.100.{n % 250}", UA, "", "en")


async def make_link(store: Store) -> int:
    saved = await store.insert_link(Link(destination="https://a.example/", code="w"))
    assert saved.id is not None
    return saved.id


async def test_batches_are_written_with_rollups(store: Store) -> None:
    lid = await make_link(store)
    writer = HitWriter(store, GeoLookup(), capacity=100, batch=10, flush_ms=5)
    writer.start()
    for n in range(35):
        await writer.put(raw(lid, n))
    await writer.stop()
    assert await store.count_hits(lid) == 35
    assert await store.human_hit_count(lid) == 35
    assert writer.flushes >= 4  # batches of at most 10


async def test_a_full_buffer_makes_producers_wait_not_drop(store: Store) -> None:
    lid = await make_link(store)
    writer = HitWriter(store, GeoLookup(), capacity=5, batch=5, flush_ms=1000)
    for n in range(5):
        assert writer.offer(raw(lid, n))
    assert not writer.offer(raw(lid, 99))
    waiting = asyncio.create_task(writer.put(raw(lid, 5)))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # back-pressure: the sixth click waits for room
    writer.start()
    await asyncio.wait_for(waiting, 2)
    await writer.stop()
    assert await store.count_hits(lid) == 6
    assert writer.waits >= 1


class Flaky:
    """A store whose first writes fail, as a locked or unreachable database would."""

    def __init__(self, store: Store, failures: int) -> None:
        self.store = store
        self.failures = failures

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    async def write_hits(self, hits: Sequence[Hit], *, hold: bool = False) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise OSError("database went away")
        await self.store.write_hits(hits, hold=hold)


async def test_failed_writes_are_retried_without_loss(store: Store) -> None:
    lid = await make_link(store)
    flaky = Flaky(store, failures=2)
    writer = HitWriter(flaky, GeoLookup(), capacity=100, batch=50, flush_ms=5)  # type: ignore[arg-type]
    writer.start()
    for n in range(20):
        await writer.put(raw(lid, n))
    await writer.stop()
    assert writer.failures == 2
    assert await store.count_hits(lid) == 20


async def test_stop_drains_everything(store: Store) -> None:
    lid = await make_link(store)
    writer = HitWriter(store, GeoLookup(), capacity=5000, batch=5, flush_ms=10_000)
    writer.start()
    buffered = writer.capacity  # the floor, until the writer has measured its rate
    assert buffered == FLOOR_ROWS
    for n in range(buffered):
        assert writer.offer(raw(lid, n))
    await writer.stop()
    assert writer.depth == 0
    assert await store.count_hits(lid) == buffered
