"""The outbox worker: claim due rows, send them through each destination's adapter, record
every attempt. Runs inside `firstmark serve` and as `firstmark outbox run`.

Rows are leased, not locked: a worker that dies mid-send leaves its rows `sending` until the
lease runs out, then any worker claims them again (platforms deduplicate by event_id). Logs
and the delivery log carry statuses and platform messages only: credentials are scrubbed
from messages, and user data is never logged.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from firstmark.domain import oauth
from firstmark.domain.consent import Consent
from firstmark.domain.destinations import Attempt, Audit, Destination, OutboxItem
from firstmark.forward import identifiers, outbox, requeststatus
from firstmark.forward.adapters import ADAPTERS, google_ads
from firstmark.forward.adapters.base import (
    Adapter,
    Outcome,
    Outgoing,
    Target,
    api_version,
    batch_key,
    body_json,
    max_age,
    message_of,
    request_id,
    unsendable,
)
from firstmark.forward.loop import DeliveryLoop
from firstmark.forward.tokens import ReauthNeeded, TokenProvider, TokenUnavailable
from firstmark.sealing import Sealer, Unsealable
from firstmark.services import webhooks
from firstmark.store import Store

log = logging.getLogger("firstmark.forward")
STATUS_EVERY_S = 600.0  # how often Google is asked how its recent requests fared


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def scrub(message: str | None, secrets: Sequence[str]) -> str | None:
    """A platform message without any credential in it (some echo the request)."""
    if message is None:
        return None
    for secret in secrets:
        if len(secret) >= 4:
            message = message.replace(secret, "[redacted]")
    return message


@dataclass
class Counters:
    requests: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0


class Forwarder(DeliveryLoop):
    def __init__(
        self,
        store: Store,
        client: httpx.AsyncClient,
        *,
        credentials: Sealer,
        client_data: Sealer,
        worker: str | None = None,
        batch: int = 1000,
        lease_s: float = 60.0,
        max_attempts: int = outbox.MAX_ATTEMPTS,
        backoff_s: float = outbox.BASE_DELAY_S,
        request_timeout_s: float = 10.0,
        concurrency: int = 4,
        clock: Callable[[], float] | None = None,
        tokens: TokenProvider | None = None,
    ) -> None:
        super().__init__(log, task="firstmark-outbox", failure="outbox round failed")
        self.store = store
        self.client = client
        self.credentials = credentials
        self.client_data = client_data
        self.worker = worker or worker_name()
        self.batch = batch
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.request_timeout_s = request_timeout_s
        self.concurrency = concurrency  # requests in flight per destination
        self.clock = clock or time.time
        # Claims are timed by the store's clock (the database's on PostgreSQL, so leases hold
        # across nodes whose clocks differ) unless a clock is given (tests, simulations).
        self._claim_clock = clock
        self.counters = Counters()
        # Access tokens minted from each destination's grant, through the same client.
        self.tokens = tokens or TokenProvider(client, clock=clock)
        self._asked = self.clock()  # when the platforms were last asked for their verdicts

    # --- one pass -------------------------------------------------------------------------

    async def target(self, dest: Destination, stale: str | None = None) -> Target:
        """The destination opened for sending, with a current access token where the
        platform mints them (`stale`: one the platform just refused). Raises Unsealable,
        ReauthNeeded (the destination is marked `needs_reauth`) or TokenUnavailable."""
        assert dest.id is not None
        opened = {k: str(v) for k, v in self.credentials.open(dest.credentials_sealed).items()}
        try:
            minted = await self.tokens.token(
                dest.id, dest.platform, opened, dest.options, stale=stale
            )
        except ReauthNeeded as exc:
            # Another node may have rotated the refresh token under us: try the stored one.
            latest = await self.store.get_destination(dest.id)
            if latest is None or latest.credentials_sealed == dest.credentials_sealed:
                await self._needs_reauth(dest, exc.message, list(opened.values()))
                raise
            return await self.target(latest, stale)
        if minted is not None:
            if minted.rotated_refresh_token:
                opened["refresh_token"] = minted.rotated_refresh_token
                await self.store.set_destination_auth(
                    dest.id, "ok", None, self.credentials.seal(opened)
                )
            opened["access_token"] = minted.access_token
        return Target(
            platform=dest.platform,
            credentials=opened,
            endpoint_base=dest.endpoint_base,
            test_mode=dest.test_mode,
            options=dest.options,
            name=dest.name,
            id=dest.id,
        )

    def outgoing(self, item: OutboxItem) -> Outgoing:
        client: dict[str, object] = {}
        if item.sealed_client:
            try:
                client = self.client_data.open(item.sealed_client)
            except Unsealable:
                log.warning("outbox row %s: client data cannot be opened; sent without", item.id)

        def text(key: str) -> str | None:
            value = client.get(key)
            return value if isinstance(value, str) else None

        return Outgoing(
            outbox_id=item.id,
            conversion=item.conversion,
            event_name=item.event_name,
            click_ids=item.click_ids,
            client_ip=text("ip"),
            user_agent=text("ua"),
            page_url=text("url"),
        )

    async def run_once(self) -> int:
        """Claim one round of due rows and deliver them; returns the rows claimed."""
        claimed_at = self.clock()
        items = await self.store.claim_outbox(
            self.worker,
            self.batch,
            self.lease_s,
            now=claimed_at if self._claim_clock is not None else None,
        )
        if not items:
            return 0
        by_destination: dict[int, list[OutboxItem]] = {}
        for item in items:
            by_destination.setdefault(item.destination_id, []).append(item)
        results = await asyncio.gather(
            *(
                self._destination(dest_id, rows, claimed_at + self.lease_s)
                for dest_id, rows in by_destination.items()
            )
        )
        attempts = [a for group in results for a in group]
        await self.store.finish_outbox(self.worker, attempts)
        for a in attempts:
            if a.status == "sent":
                self.counters.sent += 1
            elif a.status == "retry":
                self.counters.retried += 1
            else:
                self.counters.dead += 1
        return len(items)

    async def _destination(
        self, dest_id: int, items: list[OutboxItem], deadline: float
    ) -> list[Attempt]:
        now = self.clock()
        dest = await self.store.get_destination(dest_id)
        if dest is None:
            return [Attempt(i.id, "dead", error="the destination was removed") for i in items]
        adapter = ADAPTERS[dest.platform]
        attempts: list[Attempt] = []
        ready: list[OutboxItem] = []
        for item in items:
            window = max_age(adapter, dest.options, item.conversion.ts)
            if outbox.too_old(item.conversion.ts, now, window):
                message = outbox.age_message(window)
                attempts.append(Attempt(item.id, "dead", error=message))
            elif reason := identifiers.missing(dest.platform, item.conversion, item.click_ids):
                attempts.append(Attempt(item.id, "dead", error=reason))
            else:
                ready.append(item)
        if not ready:
            return attempts
        try:
            target = await self.target(dest)
        except Unsealable as exc:
            # Fixable by restoring the secret or re-entering credentials: keep retrying.
            outcome = Outcome("retry", exc.message)
            return attempts + [self._decide(i, outcome, now) for i in ready]
        except TokenUnavailable as exc:
            outcome = Outcome("retry", exc.message)
            return attempts + [self._decide(i, outcome, now) for i in ready]
        except ReauthNeeded as exc:
            return attempts + waiting(ready, exc.message, now)
        box = [target]  # the batches of this round share a refreshed token
        gate = asyncio.Semaphore(self.concurrency)

        async def send(chunk: list[OutboxItem]) -> list[Attempt]:
            async with gate:
                # Never start a request that could outlive the lease: another worker may
                # claim these rows then. They go back, due at once, for the next round.
                if self.clock() + self.request_timeout_s >= deadline:
                    note = "not sent this round: the lease ran short"
                    return [Attempt(i.id, "retry", self.clock(), error=note) for i in chunk]
                return await self._send(adapter, dest, box, chunk)

        groups = await asyncio.gather(*(send(chunk) for chunk in batches(adapter, ready)))
        attempts.extend(a for group in groups for a in group)
        return attempts

    async def _send(
        self, adapter: Adapter, dest: Destination, box: list[Target], chunk: list[OutboxItem]
    ) -> list[Attempt]:
        target = box[0]
        audits: dict[int, Audit] = {}
        batch: list[Outgoing] = []
        kept: list[OutboxItem] = []
        out: list[Attempt] = []
        for item in chunk:
            one = self.outgoing(item)
            audits[item.id] = audit_of(adapter, one, target)
            if reason := unsendable(adapter, one, target):
                out.append(Attempt(item.id, "dead", error=reason, audit=audits[item.id]))
            else:
                batch.append(one)
                kept.append(item)
        if not batch:
            return out
        chunk = kept
        secrets = list(target.credentials.values())
        started = time.perf_counter()
        status: int | None = None
        rid: str | None = None
        try:
            response = await self.client.send(adapter.build(batch, target, self.clock()))
            if response.status_code == 401 and oauth.mints(dest.platform, target.credentials):
                # The token may have been revoked or expired early: once more, fresh.
                self.counters.requests += 1
                target = box[0] = await self.target(dest, stale=target.credentials["access_token"])
                secrets += list(target.credentials.values())
                response = await self.client.send(adapter.build(batch, target, self.clock()))
            status = response.status_code
            rid = request_id(response)
            if status == 401:
                # Credentials the platform refuses: the conversions wait for new ones.
                message = f"HTTP 401: {message_of(response)}"
                await self._needs_reauth(dest, scrub(message, secrets) or message, secrets)
                self.counters.requests += 1
                return out + waiting(chunk, scrub(message, secrets) or message, self.clock(), 401)
            outcomes: list[Outcome] = adapter.classify(response, batch)
        except (ReauthNeeded, TokenUnavailable) as exc:
            waits = isinstance(exc, ReauthNeeded)
            if waits:
                return out + waiting(chunk, exc.message, self.clock())
            outcomes = [Outcome("retry", exc.message)] * len(batch)
        except httpx.TimeoutException:
            outcomes = [Outcome("retry", "timed out")] * len(batch)
        except httpx.TransportError as exc:
            outcomes = [Outcome("retry", f"transport error: {type(exc).__name__}")] * len(batch)
        latency_ms = (time.perf_counter() - started) * 1000
        self.counters.requests += 1
        now = self.clock()
        for item, outcome in zip(chunk, outcomes, strict=True):
            clean = Outcome(outcome.status, scrub(outcome.message, secrets), outcome.retry_after)
            attempt = self._decide(item, clean, now, status, latency_ms)
            audit = audits[item.id]
            if rid is not None:
                audit = Audit(audit.api_version, audit.consent, audit.identifiers, rid)
            out.append(
                Attempt(
                    attempt.outbox_id, attempt.status, attempt.next_attempt_at,
                    attempt.http_status, attempt.error, attempt.latency_ms, audit,
                )
            )  # fmt: skip
        failed = sum(not o.ok for o in outcomes)
        if failed:
            log.info(
                "%s %s: %d of %d events not delivered (HTTP %s)",
                target.platform, target.name, failed, len(batch), status,
            )  # fmt: skip
        return out

    async def _needs_reauth(self, dest: Destination, message: str, secrets: list[str]) -> None:
        assert dest.id is not None
        self.tokens.forget(dest.id)
        clean = scrub(message, secrets) or message
        await self.store.set_destination_auth(dest.id, "needs_reauth", clean)
        await webhooks.destination_needs_reauth(self.store, dest.id, dest.platform, dest.name)
        log.warning("%s %s needs re-authorisation: %s", dest.platform, dest.name, clean)

    # --- what the platform made of it later ---------------------------------------------

    async def poll_statuses(self) -> int:
        """Ask Google Data Manager how recent requests fared (forward/requeststatus.py) and
        record it in the delivery log; returns the log lines updated."""
        updated = 0
        for dest in await self.store.list_destinations():
            if not (dest.enabled and dest.auth_status == "ok" and requeststatus.polls(dest)):
                continue
            assert dest.id is not None
            since = self.clock() - requeststatus.WINDOW_S
            ids = await self.store.unresolved_requests(dest.id, since, requeststatus.PER_ROUND)
            if not ids:
                continue
            try:
                target = await self.target(dest)
            except (Unsealable, ReauthNeeded, TokenUnavailable):
                continue  # the next delivery attempt says why
            base = target.base(google_ads.DEFAULT_BASE)
            for rid in ids:
                ask = requeststatus.request(base, target.credentials["access_token"], rid)
                try:
                    response = await self.client.send(ask)
                except httpx.HTTPError:
                    break  # unreachable now; the next round asks again
                if response.status_code != 200:
                    continue
                text = requeststatus.diagnostics(body_json(response))
                if text:
                    updated += await self.store.record_diagnostics(rid, text)
        return updated

    # --- the loop -------------------------------------------------------------------------

    async def run(self, poll_s: float = 1.0) -> None:
        """The loop, asking the first verdicts STATUS_EVERY_S after it starts."""
        self._asked = self.clock()
        await super().run(poll_s)

    async def round(self) -> int:
        """A round of deliveries; every STATUS_EVERY_S, the platforms' later verdicts
        (poll_statuses) too."""
        claimed = await self.run_once()
        if self.clock() - self._asked >= STATUS_EVERY_S:
            self._asked = self.clock()
            await self.poll_statuses()
        return claimed


def audit_of(adapter: Adapter, item: Outgoing, target: Target) -> Audit:
    """What the audit keeps of one event as sent: the API version, the consent signals that
    allowed it, and the names (never the values) of its identifiers. Events of a batch mostly
    share all three, so the answer is cached (and shared) per combination."""
    conv = item.conversion
    return _audit(
        f"{adapter.PLATFORM} {api_version(adapter, target)}",
        conv.consent,
        tuple(k for k, v in conv.user_data.items() if v),
        tuple(k for k, v in item.click_ids.items() if v),
        (bool(item.client_ip), bool(item.user_agent), bool(item.page_url)),
    )


@functools.lru_cache(maxsize=1024)
def _audit(
    version: str,
    consent: Consent,
    user_keys: tuple[str, ...],
    click_keys: tuple[str, ...],
    client: tuple[bool, bool, bool],
) -> Audit:
    granted = [
        name for name, flag in (
            ("analytics", consent.analytics), ("ad_storage", consent.ad_storage),
            ("ad_user_data", consent.ad_user_data),
            ("ad_personalization", consent.ad_personalization), ("gpc", consent.gpc),
        ) if flag
    ]  # fmt: skip
    names = {identifiers.ALIASES.get(k, k) for k in user_keys} | set(click_keys)
    kinds = ("client_ip", "user_agent", "page_url")
    names |= {n for n, there in zip(kinds, client, strict=True) if there}
    return Audit(version, ",".join(granted) or "none", tuple(sorted(names)))


def waiting(
    items: Sequence[OutboxItem], reason: str, now: float, status: int | None = None
) -> list[Attempt]:
    """Rows of a destination that needs re-authorisation: back in the queue, not dead and
    not backed off. Claims skip them until the destination is connected again, which makes
    them due at once."""
    note = f"waiting for re-authorisation: {reason}"
    return [Attempt(i.id, "retry", now, status, note) for i in items]


def batches(adapter: Adapter, items: Sequence[OutboxItem]) -> list[list[OutboxItem]]:
    """Items grouped by the adapter's batch_key (if any), in chunks of its MAX_BATCH."""
    key = batch_key(adapter)
    groups: dict[str, list[OutboxItem]] = {}
    if key is None:
        groups[""] = list(items)
    else:
        for item in items:
            probe = Outgoing(item.id, item.conversion, item.event_name)
            groups.setdefault(key(probe), []).append(item)
    size = int(adapter.MAX_BATCH)
    return [g[i : i + size] for g in groups.values() for i in range(0, len(g), size)]
