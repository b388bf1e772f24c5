"""How late the event loop runs: a task asks to wake every 50 ms and notes by how much it
overslept. Anything that holds the loop (CPU work, a blocking call) shows here first, and
every redirect waiting behind it was that much slower. /metrics reports the maximum and the
99th percentile over the last minute."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

INTERVAL = 0.05
WINDOW = int(60 / INTERVAL)  # one minute of samples


class LoopLag:
    def __init__(self) -> None:
        self.samples: deque[float] = deque(maxlen=WINDOW)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="firstmark-loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(INTERVAL)
            self.samples.append(max(0.0, time.perf_counter() - asked - INTERVAL))

    def max(self) -> float:
        return max(self.samples, default=0.0)

    def p99(self) -> float:
        if not self.samples:
            return 0.0
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
