"""The buffer is bounded by time: it holds what the writer stores in one flush interval."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from firstmark.domain.hits import Hit, RawHit
from firstmark.domain.links import Link
from firstmark.geo import GeoLookup
from firstmark.ingest.batch import WriteRate
from firstmark.ingest.hits import HitWriter
from firstmark.store import Store

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"


def test_the_cap_is_the_rows_stored_in_one_window_at_the_recent_rate() -> None:
    rate = WriteRate(0.05, floor=16, ceiling=10_000, start=16)
    assert rate.cap == 16  # before any measurement
    assert rate.observe(1_000, 10.0, 0.02) == 2_500  # first batch: 50,000 rows/s x 50 ms
    # Then 500 rows every 50 ms: 10,000 rows/s however fast each write was.
    for n in range(1, 20):
        rate.observe(500, 10.0 + n * 0.05, 0.001)
    assert rate.rows_per_s == pytest.approx(10_000)
    assert rate.cap == 500
    # A quiet spell: 100 rows every 100 ms, each written in 10 ms.
    for n in range(1, 20):
        rate.observe(100, 11.0 + n * 0.1, 0.01)
    assert rate.cap == pytest.approx(50, abs=1)
    for n in range(1, 20):
        rate.observe(1, 13.0 + n * 0.1, 0.001)
    assert rate.cap == 16  # never below the floor
    for n in range(1, 20):
        rate.observe(10_000, 15.0 + n * 0.01, 0.01)
    assert rate.cap == 10_000  # nor above the ceiling
    # After an idle minute the first batch sets the rate by its own speed.
    assert rate.observe(100, 80.0, 0.001) == 5_000
    assert WriteRate(0.05, floor=16, ceiling=5, start=2_000).cap == 5


def test_a_database_slower_to_commit_than_the_window_is_not_choked_by_its_cap() -> None:
    # Every write takes 100 ms whatever its size: the cap must let batches grow, or the rate
    # would stay at what the floor allows (16 rows per 100 ms).
    rate = WriteRate(0.025, floor=16, ceiling=10_000, start=16)
    at = 0.0
    for _ in range(30):
        at += 0.1
        rate.observe(rate.cap, at, 0.1)  # producers fill the buffer to the cap every time
    assert rate.cap == 10_000


class SlowStore:
    """A store that writes about 4,000 hits a second, as a slow disk would."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    async def write_hits(self, hits: Sequence[Hit], *, hold: bool = False) -> None:
        await asyncio.sleep(0.002 + len(hits) / 4_000)
        await self.store.write_hits(hits, hold=hold)


async def test_a_writer_slower_than_the_clicks_holds_one_flush_interval_not_ten_thousand(
    store: Store,
) -> None:
    saved = await store.insert_link(Link(destination="https://a.example/", code="slow"))
    assert saved.id is not None
    writer = HitWriter(SlowStore(store), GeoLookup(), capacity=10_000, batch=1_000, flush_ms=50)  # type: ignore[arg-type]
    writer.start()
    deepest = 0
    started = time.perf_counter()
    for n in range(3_000):
        raw = RawHit(saved.id, time.time(), "click", "fm.test", f"203.0.113.{n % 250}", UA, "", "")
        if not writer.offer(raw):
            await writer.put(raw)  # back-pressure, as the redirect path does
        deepest = max(deepest, writer.depth)
    accepted_per_s = 3_000 / (time.perf_counter() - started)
    await writer.stop()
    assert await store.count_hits(saved.id) == 3_000
    # What a kill -9 would have lost at the worst moment, in time of the accepted traffic:
    # about one flush interval (a generous 3x here), where a fixed 10,000-row buffer would
    # have held every click of the run.
    window_s = deepest / accepted_per_s
    assert writer.waits > 0
    assert window_s <= 0.15, (deepest, accepted_per_s, writer.capacity)


async def test_rows_offered_later_join_in_order_as_room_frees(store: Store) -> None:
    saved = await store.insert_link(Link(destination="https://a.example/", code="later"))
    assert saved.id is not None
    writer = HitWriter(store, GeoLookup(), capacity=4, batch=2, flush_ms=10)
    writer.rate.cap = 2
    clicks = [
        RawHit(saved.id, time.time(), "click", "s", f"203.0.113.{n}", UA, "", "") for n in range(6)
    ]
    answered: list[int] = []

    def answer(n: int) -> None:
        if n == 3:
            raise ConnectionError("the client went away")  # must not stop the others
        answered.append(n)

    for n, raw in enumerate(clicks):
        writer.offer_later(raw, lambda n=n: answer(n))  # type: ignore[misc]
    assert answered == [0, 1]  # room for two at once; the rest wait, not buffered
    assert writer.depth == 2 and writer.waits == 4
    writer.start()
    for _ in range(200):
        if len(answered) == 5:
            break
        await asyncio.sleep(0.01)
    await writer.stop()
    assert answered == [0, 1, 2, 4, 5]  # each answered after its hit was buffered, in order
    assert await store.count_hits(saved.id) == 6
