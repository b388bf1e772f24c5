"""What the outbox worker and the webhook sender share: the loop that runs their rounds in a
task until stopped, and the retry policy (forward/outbox.py) applied with their own limits.
Each says what one round is; the loop never dies of a failed one."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from firstmark.domain.destinations import Attempt
from firstmark.forward import outbox
from firstmark.forward.adapters.base import Outcome


class Claimed(Protocol):
    """A claimed row: an outbox row or a queued webhook message."""

    @property
    def id(self) -> int: ...

    @property
    def attempts(self) -> int: ...


class DeliveryLoop:
    """A sender's loop: it defines run_once (and round, for work beside it) and sets its
    max_attempts and backoff_s."""

    max_attempts: int
    backoff_s: float

    def __init__(self, log: logging.Logger, *, task: str, failure: str) -> None:
        self._log = log
        self._task_name = task
        self._failure = failure  # what the log says when a round fails
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def run_once(self) -> int:
        """Claim one round of due rows and deliver them; returns the rows claimed."""
        raise NotImplementedError

    async def round(self) -> int:
        """One turn of the loop: run_once, and whatever else is due beside it."""
        return await self.run_once()

    def _decide(
        self,
        item: Claimed,
        outcome: Outcome,
        now: float,
        status: int | None = None,
        latency_ms: float | None = None,
    ) -> Attempt:
        return outbox.decide(
            item.id,
            item.attempts,
            outcome,
            now,
            http_status=status,
            latency_ms=latency_ms,
            max_attempts=self.max_attempts,
            base_s=self.backoff_s,
        )

    async def drain(self) -> int:
        """Deliver until nothing is due (retries later than now stay); returns rows claimed."""
        total = 0
        while claimed := await self.run_once():
            total += claimed
        return total

    async def run(self, poll_s: float = 1.0) -> None:
        """Until stop(): rounds back to back while there is work, else a nap of poll_s."""
        while not self._stop.is_set():
            try:
                claimed = await self.round()
            except Exception:  # a bad round must not end delivery for good
                self._log.exception(self._failure)
                claimed = 0
            if not claimed:
                try:
                    await asyncio.wait_for(self._stop.wait(), poll_s)
                except TimeoutError:
                    pass

    def start(self, poll_s: float = 1.0) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self.run(poll_s), name=self._task_name)

    async def stop(self) -> None:
        """Finish the round in flight, then stop."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
