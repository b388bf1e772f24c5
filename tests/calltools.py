"""Tracking numbers and calls put straight into a store, as the webhooks would leave them:
a call merged from its first and last webhook (Store.apply_call) and, when it lasted its
number's qualifying time, a conversion of source "call" tied to it."""

from __future__ import annotations

import time
from typing import Any

from firstmark.domain import calls
from firstmark.domain.calls import Call, CallEvent, Lease
from firstmark.domain.numbers import TrackingNumber
from firstmark.domain.phones import hash_key
from firstmark.services import numbers as numbers_service
from firstmark.store import Store

KEY = hash_key("test-secret")
SHOP_LINE = "+442079460999"
CALLER = "+447700900123"


async def number(store: Store, e164: str, **fields: Any) -> TrackingNumber:
    """A number registered as the API registers it (link_id, campaign, pool, label…)."""
    body = {"number": e164, "provider": "twilio", "forward_to": SHOP_LINE, **fields}
    return await numbers_service.register(store, body, time.time() - 86_400)


async def call(
    store: Store,
    tracked: TrackingNumber,
    call_id: str,
    *,
    talk: int | None = 75,
    status: str = "completed",
    ts: float | None = None,
    lease: Lease | None = None,
    caller: str = CALLER,
) -> Call:
    """One call to `tracked`, `talk` seconds long; a static number's call is attributed to
    its link or campaign, a pool number's to `lease`."""
    started = time.time() - 600 if ts is None else ts
    link = None
    if tracked.link_id is not None and lease is None:
        found = await store.get_link(tracked.link_id)
        assert found is not None
        link = {
            "campaign": found.campaign, "utm_source": found.utm_source,
            "utm_medium": found.utm_medium, "utm_campaign": found.utm_campaign,
            "utm_content": found.utm_content,
        }  # fmt: skip
    ring = CallEvent("twilio", call_id, started, "ringing", to=tracked.e164, caller=caller)
    end = CallEvent(
        "twilio", call_id, started + 5 + (talk or 20), status, to=tracked.e164, duration_s=talk
    )
    first = calls.new_call(ring, tracked, lease=lease, link=link, hash_key=KEY)
    stored, before = await store.apply_call(first, ring)
    assert stored is not None and before is None
    stored, _ = await store.apply_call(None, end)
    assert stored is not None and stored.id is not None
    if not calls.qualifies(stored, tracked):
        return stored
    goal = await numbers_service.ensure_call_goal(store)
    conversion = calls.to_conversion(stored, tracked, goal, lease=lease, caller=None)
    [(saved, duplicate)] = await store.insert_conversions([conversion])
    assert saved.id is not None and not duplicate and saved.source == "call"
    await store.set_call_conversion(stored.id, saved.id)
    found_call = await store.get_call("twilio", call_id)
    assert found_call is not None
    return found_call
