"""Snap Conversions API v3: `POST tr.snapchat.com/v3/{pixel_id}/events?access_token=…`.

Checked 2026-11-25 against
https://developers.snap.com/api/marketing-api/Conversions-API/UsingTheAPI (web endpoint with
the pixel id and `access_token` in the query; body `data[]` with `event_name`, `event_time`,
`event_id`, `action_source`, `event_source_url`, `user_data`, `custom_data`) and
https://developers.snap.com/api/marketing-api/Conversions-API (v3; events at most 37 days old).
`user_data` is Meta-like (em/ph/… as lists of SHA-256; client_ip_address, client_user_agent,
`sc_click_id` from ScCid, `sc_cookie1`). Event names are Snap's upper-case ones (PURCHASE,
SIGN_UP, …): map goals to them. Test mode posts to `/v3/{id}/events/validate` (the Test
Event Tool: validated, never recorded), which answers `status` VALID / INVALID with a
`reason`; an answer that lists events gets a result per event.
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
    excerpt,
    json_request,
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
    if item.click_ids.get("ScCid"):
        user["sc_click_id"] = item.click_ids["ScCid"]
    if item.click_ids.get("sc_cookie1"):
        user["sc_cookie1"] = item.click_ids["sc_cookie1"]
    out: dict[str, Any] = {
        "event_name": item.event_name,
        "event_time": int(conv.ts),
        "event_id": conv.event_id,
        "action_source": target.options.get(
            "action_source", "OFFLINE" if conv.source == "call" else "WEB"
        ),
        "user_data": user,
    }
    if item.page_url:
        out["event_source_url"] = item.page_url
    custom: dict[str, Any] = {}
    if conv.value is not None:
        custom["value"] = conv.value
        custom["currency"] = conv.currency
    if conv.order_id:
        custom["order_id"] = conv.order_id
    if custom:
        out["custom_data"] = custom
    return out


def build(batch: Sequence[Outgoing], target: Target, now: float) -> httpx.Request:
    path = "events/validate" if target.test_mode else "events"
    return json_request(
        "POST",
        f"{target.base(DEFAULT_BASE)}/{API_VERSION}/{target.credentials['pixel_id']}/{path}",
        {"data": [_event(item, target) for item in batch]},
        params={"access_token": target.credentials["access_token"]},
    )


def _refused(one: Any) -> str | None:
    """The reason a status object (the answer, or one event of it) refuses, or None."""
    if not isinstance(one, dict):
        return None
    status = str(one.get("status", "")).upper()
    if status in ("INVALID", "FAILED", "ERROR", "REJECTED"):
        reason = one.get("reason") or one.get("error_message") or status
        return excerpt(f"{status}: {reason}")
    return None


def classify(response: httpx.Response, batch: Sequence[Outgoing]) -> list[Outcome]:
    data = body_json(response)
    events = None
    if isinstance(data, dict):
        for key in ("events", "data", "results"):
            if isinstance(data.get(key), list) and len(data[key]) == len(batch):
                events = data[key]
                break
    if events is not None and not 500 <= response.status_code < 600:
        out = []
        for one in events:
            why = _refused(one)
            out.append(Outcome("dead", why) if why else SENT)
        if 200 <= response.status_code < 300 or any(not o.ok for o in out):
            return out
    whole = by_status(response, batch)
    if whole is not None:
        return whole
    why = _refused(data)
    return [Outcome("dead", why)] * len(batch) if why else all_sent(batch)
