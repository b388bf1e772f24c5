"""Outgoing webhooks: endpoints (create, change, rotate the secret, remove) and events queued
for every endpoint subscribed to them (`emit`).

An endpoint's URL is checked by the outbound guard when it is saved (and again on every
connection): private and loopback addresses are refused unless FIRSTMARK_WEBHOOK_ALLOW_PRIVATE
is set. Payloads carry ids, codes and amounts, never personal data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from firstmark.domain import webhooks
from firstmark.domain.calls import Call
from firstmark.domain.conversions import Conversion
from firstmark.domain.hits import Hit
from firstmark.domain.links import Link
from firstmark.domain.webhooks import Endpoint, Message, Sealed
from firstmark.errors import InvalidField, NotFound
from firstmark.sealing import Sealer
from firstmark.services import outbound
from firstmark.store import Store

log = logging.getLogger("firstmark.webhooks")
SUBSCRIBERS_TTL_S = 5.0  # how long another node's endpoint edit may go unseen here
_subscribers: dict[int, tuple[float, list[Endpoint]]] = {}  # by id(store)


async def subscribers(store: Store) -> list[Endpoint]:
    """The endpoints, read at most every SUBSCRIBERS_TTL_S (events can come thousands a
    second; edits on this node are seen at once)."""
    now = time.monotonic()
    cached = _subscribers.get(id(store))
    if cached is not None and cached[0] > now:
        return cached[1]
    found = await store.list_webhooks()
    _subscribers[id(store)] = (now + SUBSCRIBERS_TTL_S, found)
    return found


def forget(store: Store) -> None:
    _subscribers.pop(id(store), None)


async def _check_url(url: str, allow_private: bool) -> None:
    try:
        await outbound.check_endpoint(url, allow_private=allow_private)
    except outbound.Refused as exc:
        raise InvalidField(
            "url",
            f"url must reach a public address ({exc}); "
            "FIRSTMARK_WEBHOOK_ALLOW_PRIVATE=1 allows private ones",
            code="refused_url",
        ) from None


async def found(store: Store, endpoint_id: int) -> Endpoint:
    ep = await store.get_webhook(endpoint_id)
    if ep is None:
        raise NotFound(f"no webhook endpoint with id {endpoint_id}")
    return ep


async def create(
    store: Store, sealer: Sealer, body: object, *, allow_private: bool = False
) -> tuple[Endpoint, str]:
    """A new endpoint and its secret (shown once)."""
    checked = webhooks.parse(body)
    await _check_url(checked.url, allow_private)
    secret = webhooks.new_secret()
    ep = Endpoint(
        url=checked.url,
        events=checked.events,
        secrets_sealed=sealer.seal(Sealed(secret).to_dict()),
        description=checked.description,
        click_mode=checked.click_mode,
        sample_every=checked.sample_every,
        enabled=checked.enabled,
    )
    saved = await store.insert_webhook(ep)
    forget(store)
    return saved, secret


async def update(
    store: Store, current: Endpoint, body: object, *, allow_private: bool = False
) -> Endpoint:
    checked = webhooks.parse(body, current)
    if checked.url != current.url:
        await _check_url(checked.url, allow_private)
    forget(store)
    return await store.update_webhook(
        replace(
            current,
            url=checked.url,
            events=checked.events,
            description=checked.description,
            click_mode=checked.click_mode,
            sample_every=checked.sample_every,
            enabled=checked.enabled,
        )
    )


def opened(sealer: Sealer, ep: Endpoint) -> Sealed:
    raw = sealer.open(ep.secrets_sealed)
    previous = raw.get("previous")
    return Sealed(str(raw["current"]), str(previous) if previous else None)


async def rotate(
    store: Store,
    sealer: Sealer,
    current: Endpoint,
    overlap_s: float = webhooks.ROTATION_OVERLAP_S,
    now: float | None = None,
) -> tuple[Endpoint, str]:
    """A new secret; the old one keeps signing (both signatures sent) for `overlap_s`."""
    now = time.time() if now is None else now
    old = opened(sealer, current).current
    secret = webhooks.new_secret()
    saved = await store.update_webhook(
        replace(
            current,
            secrets_sealed=sealer.seal(Sealed(secret, old if overlap_s > 0 else None).to_dict()),
            previous_until=now + overlap_s if overlap_s > 0 else None,
        )
    )
    forget(store)
    return saved, secret


async def remove(store: Store, ep: Endpoint) -> bool:
    assert ep.id is not None
    forget(store)
    return await store.delete_webhook(ep.id)


async def emit(
    store: Store,
    event_type: str,
    data: Mapping[str, Any],
    *,
    only: int | None = None,
    key: str | None = None,
    now: float | None = None,
) -> int:
    """Queue `event_type` for every enabled endpoint subscribed to it (or endpoint `only`);
    the number queued. With `key`, an event already queued under it is not queued again
    (it keeps its webhook-id). Never raises for a subscriber's sake: a failure here is logged, so
    the write that caused the event stands."""
    now = time.time() if now is None else now
    try:
        endpoints = [
            ep
            for ep in (await store.list_webhooks() if only else await subscribers(store))
            if (only is None or ep.id == only) and webhooks.wants(ep, event_type)
        ]
        if not endpoints:
            return 0
        body = webhooks.envelope(event_type, data, now)
        messages = [
            Message(ep.id, webhooks.new_message_id(ep.id, event_type, key), event_type, body)
            for ep in endpoints
            if ep.id is not None
        ]
        return await store.enqueue_webhooks(messages, now)
    except Exception:
        log.exception("could not queue webhook event %s", event_type)
        return 0


async def send_test(store: Store, ep: Endpoint) -> int:
    """Queue a `webhook.test` event for this endpoint alone."""
    assert ep.id is not None
    return await emit(
        store, webhooks.TEST_EVENT, {"endpoint_id": ep.id, "message": "test event"}, only=ep.id
    )


# --- the events of each feature -----------------------------------------------------------


async def link_changed(store: Store, event_type: str, link: Link) -> None:
    """link.created, link.updated or link.archived."""
    await emit(store, event_type, webhooks.link_data(link))


async def conversions_created(store: Store, created: Sequence[Conversion]) -> None:
    """conversion.created for each new conversion, and lead.created for lead goals."""
    conversion, lead = webhooks.CONVERSION_EVENTS
    for conv in created:
        data = webhooks.conversion_data(conv)
        # Keyed by the event id: erasure finds the messages by it (conversion_message_ids).
        await emit(store, conversion, data, key=conv.event_id)
        if webhooks.is_lead(conv):
            await emit(store, lead, data, key=conv.event_id)


async def call_changed(store: Store, before: Call | None, after: Call | None) -> None:
    """call.completed when a call ends answered and talked to (once)."""
    if after is None or after.status != "completed":
        return
    if before is not None and before.status == "completed":
        return
    await emit(
        store, "call.completed", webhooks.call_data(after), key=f"{after.provider}:{after.call_id}"
    )


async def call_qualified(store: Store, call: Call) -> None:
    await emit(
        store, "call.qualified", webhooks.call_data(call), key=f"{call.provider}:{call.call_id}"
    )


async def destination_needs_reauth(
    store: Store, destination_id: int, platform: str, name: str
) -> None:
    await emit(
        store,
        "destination.needs_reauth",
        {"destination": {"id": destination_id, "platform": platform, "name": name}},
    )


class ClickFeed:
    """link.clicked and qr.scanned from the hit writer's batches (bots left out). Endpoints
    in `aggregate` mode get one event per link and minute with the count, once the minute is
    over; endpoints in `sample` mode get every `sample_every`-th click as its own event. On
    several nodes, each node sends the counts of the hits it took: sum them per minute."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self.minutes = webhooks.MinuteCounts()
        self.seen: dict[tuple[int, str], int] = {}  # sampled endpoint, kind → hits seen

    async def observe(self, hits: Sequence[Hit]) -> None:
        endpoints = [
            ep for ep in await subscribers(self.store)
            if ep.enabled and any(e in ep.events for e in webhooks.KIND_EVENTS.values())
        ]  # fmt: skip
        if not endpoints:
            return
        messages: list[Message] = []
        now = self.clock()
        for hit in hits:
            if hit.is_bot or hit.kind not in webhooks.KIND_EVENTS:
                continue
            event_type = webhooks.KIND_EVENTS[hit.kind]
            self.minutes.add(hit.ts, hit.kind, hit.link_id)
            for ep in endpoints:
                if ep.click_mode != "sample" or event_type not in ep.events or ep.id is None:
                    continue
                n = self.seen.get((ep.id, hit.kind), 0)
                self.seen[(ep.id, hit.kind)] = n + 1
                if n % ep.sample_every == 0:
                    data = webhooks.hit_data(hit.kind, hit.ts, hit.link_id, ep.sample_every)
                    body = webhooks.envelope(event_type, data, now)
                    messages.append(
                        Message(ep.id, webhooks.new_message_id(ep.id, event_type), event_type, body)
                    )
        await self._enqueue(messages)
        await self.flush(endpoints)

    async def flush(self, endpoints: Sequence[Endpoint] | None = None) -> int:
        """Queue the counts of the minutes that are over; the messages queued."""
        done = self.minutes.closed(self.clock())
        if not done:
            return 0
        if endpoints is None:
            endpoints = await subscribers(self.store)
        now = self.clock()
        messages: list[Message] = []
        for minute, kind, link_id, n in done:
            event_type = webhooks.KIND_EVENTS[kind]
            data = webhooks.count_data(kind, minute, link_id, n)
            body = webhooks.envelope(event_type, data, now)
            for ep in endpoints:
                if (
                    ep.id is not None and ep.enabled and ep.click_mode == "aggregate"
                    and event_type in ep.events
                ):  # fmt: skip
                    msg_id = webhooks.new_message_id(ep.id, event_type)
                    messages.append(Message(ep.id, msg_id, event_type, body))
        return await self._enqueue(messages)

    async def _enqueue(self, messages: list[Message]) -> int:
        if not messages:
            return 0
        try:
            return await self.store.enqueue_webhooks(messages)
        except Exception:  # the hits are stored; only their webhooks are lost
            log.exception("could not queue %d click webhooks", len(messages))
            return 0
