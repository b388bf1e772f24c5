"""Pinterest API for Conversions: `POST api.pinterest.com/v5/ad_accounts/{id}/events`.

Checked 2026-11-25 against https://github.com/pinterest/pinterest-python-generated-api-client
(docs/ConversionEventsApi.md: events_create, Bearer conversion token) and the Events API
OpenAPI 5.13 (`?test=true` validates without recording). Body: `data[]` of `event_name`
(checkout, lead, signup, …), `action_source` ("web"), `event_time` (Unix seconds), `event_id`,
`event_source_url`, `user_data{em[], ph[] (SHA-256; phone digits without '+'), fn, ln, …,
client_ip_address, client_user_agent, click_id (the _epik cookie)}`, `custom_data{currency,
value (a string), order_id}`. `user_data` needs `em`, `hashed_maids`, or IP and user agent.
Contract: tests/forward/test_contracts.py converts every request built here into the
generated client's models (pinterest-generated-client 0.1.12,
`openapi_generated.pinterest_client.model.conversion_events.ConversionEvents`, types
checked), checked 2026-12-03.

The answer lists a status per event. Revenue goes as the exact decimal given (never `%g`,
which turns 1234567.89 into "1.23457e+06"); postcodes only when digits; an event without
`em` nor IP and user agent is refused before sending (Pinterest would refuse it anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from firstmark.forward.adapters.base import (
    SENT,
    Outcome,
    Outgoing,
    Target,
    all_sent,
    body_json,
    by_status,
    decimal_text,
    excerpt,
    json_request,
    meta_style_event,
    meta_style_user,
)

PLATFORM = "pinterest"
API_VERSION = "v5"
CHECKED = "2026-11-25"
DEFAULT_BASE = "https://api.pinterest.com"
MAX_BATCH = 1000
MAX_AGE_S = 7 * 86400


def _event(item: Outgoing, target: Target) -> dict[str, Any]:
    conv = item.conversion
    user = meta_style_user(PLATFORM, item)
    if item.click_ids.get("epik"):
        user["click_id"] = item.click_ids["epik"]
    # a phone call is an offline event to Pinterest (its action sources: app, web, offline)
    source = target.options.get("action_source", "offline" if conv.source == "call" else "web")
    return meta_style_event(item, source, user, value=decimal_text)


def unsendable(item: Outgoing, target: Target) -> str | None:
    if item.conversion.user_data.get("em") or (item.client_ip and item.user_agent):
        return None
    return "skipped: pinterest needs em, or the client's IP and user agent"


def build(batch: Sequence[Outgoing], target: Target, now: float) -> httpx.Request:
    account = target.credentials["ad_account_id"]
    return json_request(
        "POST",
        f"{target.base(DEFAULT_BASE)}/{API_VERSION}/ad_accounts/{account}/events",
        {"data": [_event(item, target) for item in batch]},
        headers={"authorization": f"Bearer {target.credentials['access_token']}"},
        params={"test": "true"} if target.test_mode else None,
    )


def classify(response: httpx.Response, batch: Sequence[Outgoing]) -> list[Outcome]:
    whole = by_status(response, batch)
    if whole is not None:
        return whole
    data = body_json(response)
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list) or len(events) != len(batch):
        return all_sent(batch)
    return [
        Outcome("dead", excerpt(str(e.get("error_message") or "failed")))
        if isinstance(e, dict) and e.get("status") == "failed"
        else SENT
        for e in events
    ]
