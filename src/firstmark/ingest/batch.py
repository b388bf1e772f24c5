"""The batched writer both ingest paths share: the response path appends, one task writes.

A request costs the response path one deque append. At least every half `flush_ms` while rows
wait (at once when a batch is ready) the task hands the front of the buffer to `_write`, one
batch per transaction. When the buffer is full, producers wait (back-pressure); nothing is
dropped. A failed write keeps the batch and retries with backoff, counting the failures, unless
the failure is about its rows (store/failures.py): then the batch is split in halves until the
rows that fail on their own are found; those are dropped, counted (`rejected`) and logged
without their content, and the rest is stored. `stop()` drains everything before returning.

What a hard kill (`kill -9`, power loss) loses is what the buffer holds, so the buffer is
bounded by time, not by a fixed count: it holds at most the rows stored in half a flush interval
at the rate they have recently been stored (`WriteRate`), never more than `capacity` rows. When
clicks come faster than the writer can store them, producers wait and the answered rate falls
to the writer's; when they come slower, the cap follows them down. Either way a kill loses
about one flush interval of the traffic being answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from firstmark.store import Store, row_level

log = logging.getLogger("firstmark.writer")
T = TypeVar("T")

# The buffer never shrinks below this many rows (or `capacity`, if smaller): enough for the
# writer to find its rate again after a slow spell, little enough that a slow database (a few
# hundred rows a second) still loses no more than about one flush interval.
FLOOR_ROWS = 16


class WriteRate:
    """Rows per second the writer has stored lately, and the buffer cap it gives: the rows
    stored in `window_s` at that rate, within [floor, ceiling].

    The rate is rows stored over the last `horizon_s` of wall time, so it counts whatever else
    the process did meanwhile: it is the rate rows really leave the buffer under that load,
    which is the rate the writer can store them when producers are waiting, and the rate they
    come in when they come slower.
    """

    def __init__(
        self, window_s: float, floor: int, ceiling: int, start: int, horizon_s: float = 0.0
    ) -> None:
        self.window_s = window_s
        self.horizon_s = horizon_s or 4 * window_s
        self.floor = min(floor, ceiling)
        self.ceiling = ceiling
        self.rows_per_s = 0.0
        self.latency_s = 0.0  # how long a small write takes: the database's own delay
        self._small: deque[float] = deque(maxlen=8)
        self.cap = max(self.floor, min(start, ceiling))
        self._stored: deque[tuple[float, int]] = deque()  # (when, rows) of recent batches
        self._rows = 0  # rows of every batch in _stored but the oldest

    def observe(self, rows: int, at: float, seconds: float) -> int:
        """Account a batch of `rows` stored at time `at` (seconds, monotonic) whose write took
        `seconds`; returns the new cap."""
        stored = self._stored
        if stored and at - stored[-1][0] > self.horizon_s:
            stored.clear()  # after an idle spell the coming rate is unknown, not zero
            self._rows = 0
        if stored:
            self._rows += rows
        stored.append((at, rows))
        while len(stored) > 2 and at - stored[1][0] >= self.horizon_s:
            stored.popleft()
            self._rows -= stored[0][1]
        span = at - stored[0][0]
        if len(stored) > 1 and span > 0:
            self.rows_per_s = self._rows / span
        elif seconds > 0:
            self.rows_per_s = rows / seconds
        else:
            return self.cap
        if rows <= 2 * self.floor:
            # The quickest of the last few small writes: one slow start or spike is no delay.
            self._small.append(max(seconds, 0.0))
            self.latency_s = min(self._small)
        # A database slower to commit even a few rows than the window allows (a remote or
        # starved server) needs two writes' worth of rows to keep its pace; the loss is then
        # two commits, which no buffer could beat, and the rate is not choked by its own cap.
        held = max(self.window_s, 2 * self.latency_s)
        self.cap = max(self.floor, min(self.ceiling, int(self.rows_per_s * held)))
        return self.cap


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
        self.ceiling = capacity
        self.batch = batch
        self.flush_s = flush_ms / 1000
        # Half a flush interval of rows: the writer's pace varies (a checkpoint, a busy CPU),
        # and the answered rate a kill is measured against is the average one. Until the
        # first write is measured, the floor: a burst at start-up finds the rate within a few
        # milliseconds.
        self.rate = WriteRate(
            self.flush_s / 2, FLOOR_ROWS, capacity, start=FLOOR_ROWS, horizon_s=4 * self.flush_s
        )
        self._set_ready()
        self._buf: deque[T] = deque()
        self._wake = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()
        self._closing = False
        # Producers that cannot await (the HTTP protocol): each row joins the buffer, and its
        # callback runs, as soon as there is room, before any `put` waiting.
        self._later: deque[tuple[T, Callable[[], None]]] = deque()
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

    @property
    def capacity(self) -> int:
        """Most rows buffered now: half a flush interval of writing (see `WriteRate`)."""
        return self.rate.cap

    def _set_ready(self) -> None:
        # Rows that start a write at once: a batch, or half the cap, so that the writer is
        # under way well before producers have to wait.
        self._ready = min(self.batch, max(1, self.rate.cap // 2))

    def offer(self, raw: T) -> bool:
        """Append without waiting; False when the buffer is full (then await `put`)."""
        buf = self._buf
        if len(buf) >= self.rate.cap:
            return False
        buf.append(raw)
        if len(buf) >= self._ready or len(buf) == 1:
            self._wake.set()  # a batch is ready, or the first row ends an idle wait
        return True

    def offer_later(self, raw: T, then: Callable[[], None]) -> None:
        """Append `raw` as soon as there is room (at once if there is), then call `then`."""
        if not self._later and self.offer(raw):
            then()
            return
        self.waits += 1
        self._later.append((raw, then))
        self._wake.set()

    def _admit(self) -> None:
        """Rows left aside by `offer_later`, in order, while there is room."""
        later, buf, cap = self._later, self._buf, self.rate.cap
        while later and len(buf) < cap:
            raw, then = later.popleft()
            buf.append(raw)
            try:
                then()
            except Exception:  # a producer's callback (a closed connection): not the writer's
                log.exception("a waiting %s producer failed", self.what)

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
        loop = asyncio.get_running_loop()
        began = -self.flush_s  # loop time the last write began
        while True:
            if not self._buf:
                await self._settle_quietly(force=self._closing)
                if self._closing:
                    return
                self._wake.clear()
                # Idle: the first row to arrive ends the wait.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.flush_s)
                continue
            # Rows are waiting. Writes begin at most every half flush interval (unless a batch
            # is ready), so a row waits for that and two writes at worst: what a kill loses.
            delay = began + self.flush_s / 2 - loop.time()
            if delay > 0 and len(self._buf) < self._ready and not self._closing:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            began = loop.time()
            try:
                await self.flush_once()
                failures = 0
            except Exception as exc:
                failures += 1
                self.failures += 1
                # The database is away: keep answering clicks into the whole memory ceiling
                # (FIRSTMARK_HIT_BUFFER) rather than stall; the next write measures again.
                self.rate.cap = self.ceiling
                self._set_ready()
                self._admit()
                self._space.set()
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
        done = time.perf_counter()
        self.flushes += 1
        self.last_flush_s = done - started
        self.rate.observe(len(raws), done, self.last_flush_s)
        self._set_ready()
        self._admit()
        if len(self._buf) < self.rate.cap:
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
        """Write everything buffered now, and anything the store holds back (tests and
        shutdown)."""
        while self._buf:
            await self.flush_once()
        await self.settle(force=True)

    async def settle(self, *, force: bool = False) -> None:
        """Called when the buffer is empty: a subclass writes what its store holds back
        once due (at once with `force`)."""

    async def _settle_quietly(self, *, force: bool) -> None:
        try:
            await self.settle(force=force)
        except Exception as exc:  # the next batch or idle pass tries again
            self.failures += 1
            log.warning("settling the %s failed (%s)", self.what, exc)

    async def _write(self, raws: list[T]) -> None:
        raise NotImplementedError
