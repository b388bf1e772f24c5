"""Meta Conversions API: `POST graph.facebook.com/{API_VERSION}/{pixel_id}/events`.

Checked 2026-11-25 against
https://developers.facebook.com/documentation/ads-commerce/conversions-api/using-the-api
(Updated Feb 6, 2026: the /events edge, `data` array, `test_event_code`) and
https://developers.facebook.com/documentation/ads-commerce/marketing-api/reference/ads-pixel/events
(POST /v25.0/<PIXEL_ID>/events; answer `events_received`, `messages`, `fbtrace_id`).
Parameters: event_name, event_time (Unix seconds, at most 7 days old), event_id (dedup with the
pixel), action_source, event_source_url, user_data (em/ph/fn/ln/ct/st/zp/country/external_id
hashed, as lists; client_ip_address, client_user_agent, fbc, fbp clear), custom_data (value,
currency, order_id), data_processing_options for Limited Data Use.

Action source: a CRM deal's own (`system_generated`, or `physical_store` as its import
chose); `phone_call` for calls; `website` only for an event that carries its page URL and
the visitor's user agent (Meta refuses website events without them); anything else goes as
the destination's `options.action_source`, `other` when unset (never `system_generated`
for anything else: Meta reserves it for CRM systems' own events). The worker keeps an hour
in hand inside the 7-day window: one stale event makes Meta refuse the whole batch.

A batch is all or nothing: an error rejects every event in it. The access token travels in
the JSON body (the Graph API takes parameters there), never in the URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from firstmark.forward.adapters.base import (
    Outcome,
    Outgoing,
    Target,
    all_sent,
    body_json,
    by_status,
    excerpt,
    json_request,
    meta_style_event,
    meta_style_user,
    retry_after,
)

PLATFORM = "meta"
API_VERSION = "v25.0"
CHECKED = "2026-11-25"
DEFAULT_BASE = "https://graph.facebook.com"
MAX_BATCH = 1000
MAX_AGE_S = 7 * 86400
# Graph API error codes that mean "try again later" (unknown, service, throttling).
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})


def fbc(click_ids: dict[str, str] | Any, ts: float) -> str | None:
    """An existing `_fbc` cookie byte for byte, else one built from fbclid:
    `fb.1.{creation time in ms}.{fbclid}` (fbclid's case kept). The creation time is when the
    fbclid was seen on the landing page (`fbclid_at`), else the conversion's time."""
    if click_ids.get("fbc"):
        return str(click_ids["fbc"])
    if click_ids.get("fbclid"):
        seen = str(click_ids.get("fbclid_at") or "")
        created = int(seen) if seen.isdigit() else int(ts * 1000)
        return f"fb.1.{created}.{click_ids['fbclid']}"
    return None


DEFAULT_ACTION_SOURCE = "other"


def action_source(item: Outgoing, target: Target) -> str:
    if item.conversion.action_source:  # a CRM deal: system_generated or physical_store
        return item.conversion.action_source
    if item.conversion.source == "call":
        return "phone_call"
    if item.page_url and item.user_agent:
        return "website"
    configured = target.options.get("action_source")
    if isinstance(configured, str) and configured and configured != "website":
        return configured
    return DEFAULT_ACTION_SOURCE


def event(item: Outgoing, target: Target) -> dict[str, Any]:
    conv = item.conversion
    user = meta_style_user(PLATFORM, item)
    cookie = fbc(dict(item.click_ids), conv.ts)
    if cookie:
        user["fbc"] = cookie
    if item.click_ids.get("fbp"):
        user["fbp"] = item.click_ids["fbp"]
    out = meta_style_event(item, action_source(item, target), user)
    if target.options.get("limited_data_use"):
        out["data_processing_options"] = ["LDU"]
        out["data_processing_options_country"] = int(target.options.get("ldu_country", 0))
        out["data_processing_options_state"] = int(target.options.get("ldu_state", 0))
    return out


def build(batch: Sequence[Outgoing], target: Target, now: float) -> httpx.Request:
    payload: dict[str, Any] = {
        "data": [event(item, target) for item in batch],
        "access_token": target.credentials["access_token"],
    }
    if target.test_mode and target.options.get("test_event_code"):
        payload["test_event_code"] = target.options["test_event_code"]
    url = f"{target.base(DEFAULT_BASE)}/{API_VERSION}/{target.credentials['pixel_id']}/events"
    return json_request("POST", url, payload)


def classify(response: httpx.Response, batch: Sequence[Outgoing]) -> list[Outcome]:
    data = body_json(response)
    error = data.get("error") if isinstance(data, dict) else None
    if response.status_code == 400 and isinstance(error, dict):
        message = excerpt(
            f"HTTP 400: {error.get('message', '')} (code {error.get('code')}, "
            f"subcode {error.get('error_subcode')})"
        )
        if error.get("code") in TRANSIENT_CODES or error.get("is_transient") is True:
            return [Outcome("retry", message, retry_after(response))] * len(batch)
        return [Outcome("dead", message)] * len(batch)
    whole = by_status(response, batch)
    if whole is not None:
        return whole
    return all_sent(batch)
