"""Snap Conversions API v3: `POST tr.snapchat.com/v3/{pixel_id}/events?access_token=…`.

Checked 2026-11-25 against
https://developers.snap.com/api/marketing-api/Conversions-API/UsingTheAPI (web endpoint with
the pixel id and `access_token` in the query; body `data[]` with `event_name`, `event_time`,
`event_id`, `action_source`, `event_source_url`, `user_data`, `custom_data`) and
https://developers.snap.com/api/marketing-api/Conversions-API (v3; events at most 37 days old).
`user_data` is Meta-like (em/ph/… as lists of SHA-256; client_ip_address, client_user_agent,
`sc_click_id` from ScCid, `sc_cookie1`). Event names are Snap's upper-case ones (PURCHASE,
SIGN_UP, …): map goals to them. Test mode posts to `/v3/{id}/events/validate` (the Test
Event Tool: validated, never recorded), whose ValidateResponse lists `event_logs[]` with each
event's index, status and `errors.error_msgs`; a live EventResponse that is INVALID names the
refused event's index.

Contract: requests and answers are validated in tests/forward/test_contracts.py against the
schemas of Snap's Conversions API V3 OpenAPI (business-sdk-v3-java api/openapi.yaml, commit
186f8ca, vendored as tests/forward/specs/snap-capi-v3.schema.json), checked 2026-12-03.
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
)

PLATFORM = "snapchat"
API_VERSION = "v3"
CHECKED = "2026-11-25"
DEFAULT_BASE = "https://tr.snapchat.com"
MAX_BATCH = 2000
MAX_AGE_S = 37 * 86400


def _event(item: Outgoing, target: Target) -> dict[str, Any]:
    conv = item.conversion
    user = meta_style_user(PLATFORM, item)
    user.pop("external_id", None)  # not a V3 user_data field
    if item.click_ids.get("ScCid"):
        user["sc_click_id"] = item.click_ids["ScCid"]
    if item.click_ids.get("sc_cookie1"):
        user["sc_cookie1"] = item.click_ids["sc_cookie1"]
    source = target.options.get("action_source", "OFFLINE" if conv.source == "call" else "WEB")
    return meta_style_event(item, source, user)


def build(batch: Sequence[Outgoing], target: Target, now: float) -> httpx.Request:
    path = "events/validate" if target.test_mode else "events"
    return json_request(
        "POST",
        f"{target.base(DEFAULT_BASE)}/{API_VERSION}/{target.credentials['pixel_id']}/{path}",
        {"data": [_event(item, target) for item in batch]},
        params={"access_token": target.credentials["access_token"]},
    )


def _messages(one: Any) -> str:
    errors = one.get("errors") if isinstance(one, dict) else None
    msgs = errors.get("error_msgs") if isinstance(errors, dict) else None
    if isinstance(msgs, list) and msgs:
        return "; ".join(str(m) for m in msgs)
    reason = one.get("reason") if isinstance(one, dict) else None
    return str(reason or "refused")


def classify(response: httpx.Response, batch: Sequence[Outgoing]) -> list[Outcome]:
    """A validate answer lists `event_logs[]` by event index; a live answer is one
    EventResponse, INVALID naming the `event` index it refused (the others go again)."""
    data = body_json(response)
    if isinstance(data, dict) and not 500 <= response.status_code < 600:
        logs = data.get("event_logs")
        if isinstance(logs, list) and logs:
            out = all_sent(batch)
            for log in logs:
                index = log.get("event") if isinstance(log, dict) else None
                status = str(log.get("status", "")).upper() if isinstance(log, dict) else ""
                if isinstance(index, int) and 0 <= index < len(batch) and status != "VALID":
                    out[index] = Outcome("dead", excerpt(f"{status}: {_messages(log)}"))
            if data.get("status") == "INVALID" and all(o.ok for o in out):
                return [Outcome("dead", excerpt(f"INVALID: {_messages(data)}"))] * len(batch)
            return out
        if data.get("status") == "INVALID":
            index = data.get("event")
            message = excerpt(f"INVALID: {_messages(data)}")
            if isinstance(index, int) and 0 <= index < len(batch) and len(batch) > 1:
                again = Outcome("retry", "resent without the event Snap refused", 0.0)
                dead = Outcome("dead", message)
                return [dead if i == index else again for i in range(len(batch))]
            return [Outcome("dead", message)] * len(batch)
    whole = by_status(response, batch)
    return whole if whole is not None else all_sent(batch)
