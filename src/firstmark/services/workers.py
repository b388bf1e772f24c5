"""CPU work off the event loop, bounded: password hashing, QR rendering, image decoding and
file parsing.

One request's worth of such work takes from 50 ms (a scrypt hash) to seconds (a large logo,
a 20 MB cost CSV); on the event loop it would hold every redirect behind it. `Workers` runs
it elsewhere with a limit on concurrency (`FIRSTMARK_CPU_WORKERS` jobs at once) and on the
queue (`FIRSTMARK_WORKER_QUEUE` jobs waiting); past the queue a request is refused with 503
(`Busy`) rather than waiting without end.

Two kinds of "elsewhere": `thread` for work that releases the GIL (hashlib's scrypt), and
`process` for pure-Python work, which in a thread would still take the GIL from the event
loop for 5 ms at a time. The process pool is shared by every app in the process, started on
first use (spawned, not forked: the server has threads), runs at a lower CPU priority than the
server (nice 10), and is recreated if a worker dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from firstmark.errors import Busy

log = logging.getLogger("firstmark.workers")

T = TypeVar("T")

_pools: dict[int, ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def _process_pool(size: int) -> ProcessPoolExecutor:
    with _pools_lock:
        pool = _pools.get(size)
        if pool is None:
            pool = ProcessPoolExecutor(
                size, mp_context=multiprocessing.get_context("spawn"), initializer=_background
            )
            _pools[size] = pool
        return pool


def _drop_pool(size: int, pool: ProcessPoolExecutor) -> None:
    with _pools_lock:
        if _pools.get(size) is pool:
            del _pools[size]
    pool.shutdown(wait=False, cancel_futures=True)


def _background() -> None:
    """In each worker process: yield the CPU to the event loop's process when both want it
    (a render can wait a few milliseconds; a redirect should not)."""
    with contextlib.suppress(OSError):
        os.nice(10)


def _ready() -> bool:
    return True


class Workers:
    def __init__(self, size: int = 2, queue: int = 32) -> None:
        self.size = max(1, size)
        self.queue = max(0, queue)
        self._threads = ThreadPoolExecutor(self.size, thread_name_prefix="firstmark-cpu")
        self._slots: asyncio.Semaphore | None = None
        self.running = 0
        self.waiting = 0
        self.done = 0
        self.refused = 0

    async def thread(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) on a worker thread: for work that releases the GIL."""
        return await self._run(self._threads, fn, args)

    async def process(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) in a worker process: fn and its arguments and result must pickle."""
        pool = _process_pool(self.size)
        try:
            return await self._run(pool, fn, args)
        except BrokenProcessPool:
            log.warning("a CPU worker process died; starting new ones")
            _drop_pool(self.size, pool)
            raise Busy("the server is busy; try again in a moment") from None

    async def warm(self) -> None:
        """Start the worker processes now, so the first request does not wait for them."""
        await self.process(_ready)

    async def _run(self, executor: Executor, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        if self.running >= self.size and self.waiting >= self.queue:
            self.refused += 1
            raise Busy("the server is busy; try again in a moment")
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            future = asyncio.get_running_loop().run_in_executor(executor, fn, *args)
        except BaseException:
            self._release(None)
            raise
        # The slot is given back when the job ends, not when the request does: a cancelled
        # request cannot free room for more work than the limit while its job still runs.
        future.add_done_callback(self._release)
        return await asyncio.shield(future)

    def _release(self, _: object) -> None:
        assert self._slots is not None
        self.running -= 1
        self.done += 1
        self._slots.release()

    def close(self) -> None:
        self._threads.shutdown(wait=False)


async def run(workers: Workers | None, fn: Callable[..., T], *args: Any, cpu: bool = True) -> T:
    """fn(*args) on `workers` (a process for `cpu` work, else a thread), or on a plain
    thread when there is no pool (the CLI)."""
    if workers is None:
        return await asyncio.to_thread(fn, *args)
    if cpu:
        return await workers.process(fn, *args)
    return await workers.thread(fn, *args)
