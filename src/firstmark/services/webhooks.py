"""Outgoing webhooks: endpoints (create, change, rotate the secret, remove) and events queued
for every endpoint subscribed to them (`emit`).

An endpoint's URL is checked by the outbound guard when it is saved (and again on every
connection): private and loopback addresses are refused unless FIRSTMARK_WEBHOOK_ALLOW_PRIVATE
is set. Payloads carry ids, codes and amounts, never personal data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from firstmark.domain import webhooks
from firstmark.domain.webhooks import Endpoint, Message, Sealed
from firstmark.errors import InvalidField, NotFound
from firstmark.sealing import Sealer
from firstmark.services import outbound
from firstmark.store import Store

log = logging.getLogger("firstmark.webhooks")


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
    return await store.insert_webhook(ep), secret


async def update(
    store: Store, current: Endpoint, body: object, *, allow_private: bool = False
) -> Endpoint:
    checked = webhooks.parse(body, current)
    if checked.url != current.url:
        await _check_url(checked.url, allow_private)
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
    return saved, secret


async def emit(
    store: Store,
    event_type: str,
    data: Mapping[str, Any],
    *,
    only: int | None = None,
    now: float | None = None,
) -> int:
    """Queue `event_type` for every enabled endpoint subscribed to it (or endpoint `only`);
    the number queued. Never raises for a subscriber's sake: a failure here is logged, so
    the write that caused the event stands."""
    now = time.time() if now is None else now
    try:
        endpoints = [
            ep
            for ep in await store.list_webhooks()
            if (only is None or ep.id == only) and webhooks.wants(ep, event_type)
        ]
        if not endpoints:
            return 0
        body = webhooks.envelope(event_type, data, now)
        messages = [
            Message(ep.id, webhooks.new_message_id(), event_type, body)
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
