"""Reddit Conversions API v3: `POST ads-api.reddit.com/api/v3/pixels/{pixel_id}/conversion_events`.

Checked 2026-11-25 against https://ads-api.reddit.com/docs/v3/operations/Post%20Conversion%20Events
(as cited by https://doc.commandersact.com/features/destinations/destinations-catalog/reddit-conversions-api)
and https://www.rudderstack.com/docs/destinations/streaming-destinations/reddit/ (API v2.0
`/api/v2.0/conversions/events/{account_id}` deprecated, v3 current). Bearer conversion access
token. Body `{"data": {"events": [...]}}` with `event_at` (epoch ms), `action_source`
("WEBSITE"), `type{tracking_type (PURCHASE, SIGN_UP, LEAD, … or CUSTOM with
custom_event_name)}`, `click_id` (rdt_cid), `metadata{conversion_id (dedup with the pixel),
value, currency}`, `user{email, external_id (SHA-256), ip_address, user_agent}`.
Test mode: v2.0's `test_mode` flag became v3's `test_id` (from Events Manager's test page),
inside `data` beside `events`. Email as Reddit canonicalises it (dots and `+suffix` dropped
for every domain), `phone_number` SHA-256 of E.164; value and currency only on event types
that take them (not PAGE_VISIT, VIEW_CONTENT or SEARCH, which Reddit refuses with them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from firstmark.forward import hashing
from firstmark.forward.adapters.base import (
    Outcome,
    Outgoing,
    Target,
    all_sent,
    by_status,
    json_request,
)

NO_VALUE = frozenset({"PAGE_VISIT", "VIEW_CONTENT", "SEARCH"})
PLATFORM = "reddit"
API_VERSION = "v3"
CHECKED = "2026-11-25"
DEFAULT_BASE = "https://ads-api.reddit.com"
MAX_BATCH = 1000
MAX_AGE_S = 7 * 86400
STANDARD = frozenset(
    {"PAGE_VISIT", "VIEW_CONTENT", "SEARCH", "ADD_TO_CART", "ADD_TO_WISHLIST", "PURCHASE",
     "LEAD", "SIGN_UP"}
)  # fmt: skip


def _event(item: Outgoing) -> dict[str, Any]:
    conv = item.conversion
    kind = item.event_name.upper()
    tracking: dict[str, str] = (
        {"tracking_type": kind}
        if kind in STANDARD
        else {"tracking_type": "CUSTOM", "custom_event_name": item.event_name}
    )
    user: dict[str, str] = {}
    email = hashing.email(PLATFORM, conv.user_data)
    if email:
        user["email"] = email
    phone = hashing.phone(PLATFORM, conv.user_data)
    if phone:
        user["phone_number"] = phone
    if conv.user_data.get("external_id"):
        user["external_id"] = conv.user_data["external_id"]
    if item.client_ip:
        user["ip_address"] = item.client_ip
    if item.user_agent:
        user["user_agent"] = item.user_agent
    metadata: dict[str, Any] = {"conversion_id": conv.event_id}
    if conv.value is not None and kind not in NO_VALUE:
        metadata["value"] = conv.value
        metadata["currency"] = conv.currency
    out: dict[str, Any] = {
        "event_at": int(conv.ts * 1000),
        "action_source": "WEBSITE",
        "type": tracking,
        "metadata": metadata,
        "user": user,
    }
    if item.click_ids.get("rdt_cid"):
        out["click_id"] = item.click_ids["rdt_cid"]
    return out


def build(batch: Sequence[Outgoing], target: Target, now: float) -> httpx.Request:
    data: dict[str, Any] = {"events": [_event(item) for item in batch]}
    if target.test_mode and target.options.get("test_id"):
        data["test_id"] = target.options["test_id"]
    payload = {"data": data}
    pixel = target.credentials["pixel_id"]
    return json_request(
        "POST",
        f"{target.base(DEFAULT_BASE)}/api/{API_VERSION}/pixels/{pixel}/conversion_events",
        payload,
        headers={"authorization": f"Bearer {target.credentials['access_token']}"},
    )


def classify(response: httpx.Response, batch: Sequence[Outgoing]) -> list[Outcome]:
    whole = by_status(response, batch)
    return whole if whole is not None else all_sent(batch)
