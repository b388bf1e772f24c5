"""TikTok Events API 2.0: `POST business-api.tiktok.com/open_api/v1.3/event/track/`.

Checked 2026-11-25 against https://ads.tiktok.com/help/article/events-api (updated April 2025)
and the Events API payload as used in public integrations (header `Access-Token`; body
`event_source: "web"`, `event_source_id` = pixel code, `test_event_code`, `data[]` with
`event`, `event_time` (Unix seconds), `event_id`, `user{email, phone, external_id, ttclid,
ttp, ip, user_agent}`, `page{url}`, `properties{value, currency}`).

TikTok attributes web events up to 28 days back (MAX_AGE_S; the worker keeps an hour in
hand). `properties` carry `order_id`, `content_type` ("product") and `contents` (one item: the
order, else the goal, with its value) so value-optimised campaigns take the event;
`options.limited_data_use` sets `limited_data_use` on every event.

TikTok answers HTTP 200 with `code` 0 on success; any other `code` is an error for the whole
request (40100 is its rate limit, 5xxxx its own failures: both retried).
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
    body_json,
    by_status,
    excerpt,
    json_request,
)

PLATFORM = "tiktok"
API_VERSION = "v1.3"
CHECKED = "2026-11-25"
DEFAULT_BASE = "https://business-api.tiktok.com"
MAX_BATCH = 1000
MAX_AGE_S = 28 * 86400  # TikTok's longest attribution window
RATE_LIMITED = 40100


def _event(item: Outgoing, target: Target) -> dict[str, Any]:
    conv = item.conversion
    user: dict[str, Any] = {}
    email = hashing.email(PLATFORM, conv.user_data)
    phone = hashing.phone(PLATFORM, conv.user_data)
    if email:
        user["email"] = email
    if phone:
        user["phone"] = phone
    if conv.user_data.get("external_id"):
        user["external_id"] = conv.user_data["external_id"]
    for key in ("ttclid", "ttp"):
        if item.click_ids.get(key):
            user[key] = item.click_ids[key]
    if item.client_ip:
        user["ip"] = item.client_ip
    if item.user_agent:
        user["user_agent"] = item.user_agent
    out: dict[str, Any] = {
        "event": item.event_name,
        "event_time": int(conv.ts),
        "event_id": conv.event_id,
        "user": user,
    }
    if item.page_url:
        out["page"] = {"url": item.page_url}
    props: dict[str, Any] = {"content_type": "product"}
    content: dict[str, Any] = {"content_id": conv.order_id or conv.goal or item.event_name}
    if conv.value is not None:
        props["value"] = conv.value
        props["currency"] = conv.currency
        content["price"] = conv.value
        content["quantity"] = 1
    if conv.order_id:
        props["order_id"] = conv.order_id
    props["contents"] = [content]
    out["properties"] = props
    if target.options.get("limited_data_use"):
        out["limited_data_use"] = True
    return out


def build(batch: Sequence[Outgoing], target: Target, now: float) -> httpx.Request:
    payload: dict[str, Any] = {
        "event_source": "web",
        "event_source_id": target.credentials["pixel_code"],
        "data": [_event(item, target) for item in batch],
    }
    if target.test_mode and target.options.get("test_event_code"):
        payload["test_event_code"] = target.options["test_event_code"]
    return json_request(
        "POST",
        f"{target.base(DEFAULT_BASE)}/open_api/{API_VERSION}/event/track/",
        payload,
        headers={"access-token": target.credentials["access_token"]},
    )


def classify(response: httpx.Response, batch: Sequence[Outgoing]) -> list[Outcome]:
    whole = by_status(response, batch)
    if whole is not None:
        return whole
    data = body_json(response)
    code = data.get("code") if isinstance(data, dict) else None
    if code in (0, None):
        return all_sent(batch)
    message = excerpt(f"code {code}: {data.get('message', '')}")
    if code == RATE_LIMITED or (isinstance(code, int) and code >= 50000):
        return [Outcome("retry", message)] * len(batch)
    return [Outcome("dead", message)] * len(batch)
