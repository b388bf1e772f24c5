"""The batched writer both ingest paths share: the response path appends, one task writes.

A request costs the response path one deque append. Every `flush_ms` (or as soon as a batch is
full) the task hands the front of the buffer to `_write`, one batch per transaction. When the
buffer is full, producers wait (back-pressure); nothing is dropped. A failed write keeps the
batch and retries with backoff, counting the failures. `stop()` drains everything before
returning.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from typing import Generic, TypeVar

from firstmark.store import Store

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
            await self._write(raws)
            for _ in raws:
                self._buf.popleft()
        self.written += len(raws)
        self.flushes += 1
        self.last_flush_s = time.perf_counter() - started
        if len(self._buf) < self.capacity:
            self._space.set()
        return len(raws)

    async def drain(self) -> None:
        """Write everything buffered now (tests and shutdown)."""
        while self._buf:
            await self.flush_once()

    async def _write(self, raws: list[T]) -> None:
        raise NotImplementedError
