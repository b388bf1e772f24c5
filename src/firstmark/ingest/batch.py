"""The batched writer both ingest paths share: the response path appends, one task writes.

A request costs the response path one deque append. Every `flush_ms` (or as soon as a batch is
full) the task hands the front of the buffer to `_write`, one batch per transaction. When the
buffer is full, producers wait (back-pressure); nothing is dropped. A failed write keeps the
batch and retries with backoff, counting the failures, unless the failure is about its rows
(store/failures.py): then the batch is split in halves until the rows that fail on their own
are found; those are dropped, counted (`rejected`) and logged without their content, and the
rest is stored. `stop()` drains everything before returning.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from typing import Generic, TypeVar

from firstmark.store import Store, row_level

log = logging.getLogger("firstmark.writer")
T = TypeVar("T")


class BatchWriter(Generic[T]):
    """A bounded buffer and the one task that empties it in batches through `_write`."""

    what = "rows"

    def __init__(
        self,
        store: Store,
        *,
        capacity: int = 10_000,
        batch: int = 1_000,
        flush_ms: int = 50,
    ) -> None:
        self.store = store
        self.capacity = capacity
        self.batch = batch
        self.flush_s = flush_ms / 1000
        self._buf: deque[T] = deque()
        self._wake = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()
        # Figures for /metrics and the benchmark.
        self.written = 0
        self.flushes = 0
        self.failures = 0
        self.waits = 0
        self.rejected = 0
        self.last_flush_s = 0.0

    @property
    def depth(self) -> int:
        return len(self._buf)

    def offer(self, raw: T) -> bool:
        """Append without waiting; False when the buffer is full (then await `put`)."""
        if len(self._buf) >= self.capacity:
            return False
        self._buf.append(raw)
        if len(self._buf) >= self.batch:
            self._wake.set()
        return True

    async def put(self, raw: T) -> None:
        while not self.offer(raw):
            self.waits += 1
            self._space.clear()
            self._wake.set()
            await self._space.wait()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"firstmark-{self.what}-writer"
        )

    async def stop(self, timeout: float = 30.0) -> None:
        """Write everything buffered, then end the task."""
        self._closing = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, timeout)
        except TimeoutError:
            log.error(
                "%s writer could not drain in %.0f s; %d not written",
                self.what,
                timeout,
                self.depth,
            )

    async def _run(self) -> None:
        failures = 0
        while True:
            if not self._buf:
                if self._closing:
                    return
            if len(self._buf) < self.batch and not self._closing:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.flush_s)
                except TimeoutError:
                    pass
            if not self._buf:
                continue
            try:
                await self.flush_once()
                failures = 0
            except Exception as exc:
                failures += 1
                self.failures += 1
                delay = min(0.1 * 2**failures, 5.0)
                log.warning(
                    "writing %d %s failed (%s); retrying in %.1f s",
                    self.depth,
                    self.what,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)

    async def flush_once(self) -> int:
        """Write up to one batch from the front of the buffer; rows leave it once stored."""
        async with self._flush_lock:
            raws = list(itertools.islice(self._buf, self.batch))
            if not raws:
                return 0
            started = time.perf_counter()
            try:
                await self._write(raws)
            except Exception as exc:
                if not row_level(exc):
                    raise
                await self._split(raws, exc)
            else:
                for _ in raws:
                    self._buf.popleft()
                self.written += len(raws)
        self.flushes += 1
        self.last_flush_s = time.perf_counter() - started
        if len(self._buf) < self.capacity:
            self._space.set()
        return len(raws)

    async def _isolate(self, raws: list[T]) -> None:
        """Write `raws` (the front of the buffer) half by half until each row that fails on
        its own is found: that row leaves the buffer unwritten."""
        try:
            await self._write(raws)
        except Exception as exc:
            if not row_level(exc):
                raise  # the database itself: the caller retries what is left
            await self._split(raws, exc)
            return
        for _ in raws:
            self._buf.popleft()
        self.written += len(raws)

    async def _split(self, raws: list[T], exc: Exception) -> None:
        """`raws` failed for a row-level reason: try each half, or drop the one row."""
        if len(raws) > 1:
            half = len(raws) // 2
            await self._isolate(raws[:half])
            await self._isolate(raws[half:])
            return
        self._buf.popleft()
        self.rejected += 1
        # The row's content may be personal or hostile: the error's kind only.
        log.error(
            "dropped 1 of the %s: the database refused it (%s)", self.what, type(exc).__name__
        )

    async def drain(self) -> None:
        """Write everything buffered now (tests and shutdown)."""
        while self._buf:
            await self.flush_once()

    async def _write(self, raws: list[T]) -> None:
        raise NotImplementedError
