"""The webhook sender: claim due messages, sign each per Standard Webhooks, POST it to its
endpoint, record the attempt. Runs beside the forwarding worker, with the same retry policy
(forward/outbox.py: 408, 429, 5xx but 501, timeouts and transport errors are retried with
backoff, honouring Retry-After; other answers are permanent and the message is dead), the
same leases, and replay of dead messages.

A retry keeps the message's `webhook-id` (receivers deduplicate by it) and gets a fresh
`webhook-timestamp` and signature. The client is the guarded one (services/outbound.py):
each connection goes to an address checked when the name was resolved.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from firstmark.domain import webhooks
from firstmark.domain.destinations import Attempt
from firstmark.domain.webhooks import Endpoint, QueuedMessage
from firstmark.forward import outbox
from firstmark.forward.adapters.base import Outcome
from firstmark.forward.loop import DeliveryLoop
from firstmark.forward.worker import worker_name
from firstmark.sealing import Sealer, Unsealable
from firstmark.services import outbound
from firstmark.services.webhooks import ClickFeed, opened
from firstmark.store import Store

log = logging.getLogger("firstmark.webhooks")
MAX_ERROR = 300  # characters of a receiver's answer kept in the delivery log


def parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None


def classify(response: httpx.Response) -> Outcome:
    """2xx delivered; the forwarding policy's transient statuses retried; the rest dead."""
    status = response.status_code
    if 200 <= status < 300:
        return Outcome("sent")
    message = f"HTTP {status}: {response.text[:MAX_ERROR]}".strip()
    if status in (408, 423, 429) or (status >= 500 and status != 501):
        return Outcome("retry", message, parse_retry_after(response.headers.get("retry-after")))
    return Outcome("dead", message)


class WebhookSender(DeliveryLoop):
    def __init__(
        self,
        store: Store,
        client: httpx.AsyncClient,
        sealer: Sealer,
        *,
        worker: str | None = None,
        batch: int = 100,
        lease_s: float = 60.0,
        max_attempts: int = outbox.MAX_ATTEMPTS,
        backoff_s: float = outbox.BASE_DELAY_S,
        request_timeout_s: float = 10.0,
        concurrency: int = 8,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(log, task="firstmark-webhooks", failure="webhook round failed")
        self.store = store
        self.client = client
        self.sealer = sealer
        self.worker = worker or worker_name()
        self.batch = batch
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.request_timeout_s = request_timeout_s
        self.concurrency = concurrency
        self.clock = clock or time.time
        # Claims are timed by the store's clock (the database's on PostgreSQL) unless a clock
        # is given (tests, simulations), as the forwarding worker's are.
        self._claim_clock = clock
        self.feed: ClickFeed | None = None  # its closed minutes are queued every round

    async def run_once(self) -> int:
        """Claim one round of due messages and deliver them; returns the messages claimed."""
        now = self.clock() if self._claim_clock is not None else None
        items = await self.store.claim_webhooks(self.worker, self.batch, self.lease_s, now)
        if not items:
            return 0
        endpoints: dict[int, Endpoint | None] = {}
        for item in items:
            if item.endpoint_id not in endpoints:
                endpoints[item.endpoint_id] = await self.store.get_webhook(item.endpoint_id)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(item: QueuedMessage) -> Attempt:
            async with gate:
                return await self._send(item, endpoints[item.endpoint_id])

        attempts = await asyncio.gather(*(one(i) for i in items))
        await self.store.finish_webhooks(self.worker, attempts, self.clock())
        return len(items)

    async def _send(self, item: QueuedMessage, ep: Endpoint | None) -> Attempt:
        if ep is None:
            return Attempt(item.id, "dead", error="the endpoint was removed")
        now = self.clock()
        try:
            keys = webhooks.signing_secrets(opened(self.sealer, ep), ep.previous_until, now)
        except Unsealable as exc:  # fixable by restoring the server secret: keep retrying
            return self._decide(item, Outcome("retry", exc.message), now)
        headers = webhooks.headers(item.msg_id, item.body, keys, now)
        started = time.perf_counter()
        status: int | None = None
        try:
            response = await self.client.post(
                ep.url,
                content=item.body.encode(),
                headers=headers,
                timeout=self.request_timeout_s,
                follow_redirects=False,
            )
            status = response.status_code
            outcome = classify(response)
        except httpx.TimeoutException:
            outcome = Outcome("retry", "timed out")
        except httpx.TransportError as exc:
            why = outbound.refusal(exc)
            outcome = Outcome("retry", why or f"transport error: {type(exc).__name__}")
        latency_ms = (time.perf_counter() - started) * 1000
        if not outcome.ok:
            log.info("webhook %s to endpoint %s: %s", item.msg_id, ep.id, outcome.message)
        return self._decide(item, outcome, self.clock(), status, latency_ms)

    async def round(self) -> int:
        """The click feed's closed minutes queued, then a round of deliveries."""
        if self.feed is not None:
            await self.feed.flush()
        return await self.run_once()
