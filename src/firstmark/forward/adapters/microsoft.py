"""Microsoft Advertising UET Conversions API: `POST capi.uet.microsoft.com/v1/{tagId}/events`.

Checked 2026-11-25 against
https://learn.microsoft.com/en-us/advertising/guides/uet-conversion-api-integration
(server events for a UET tag; `Authorization: Bearer <ApiToken>`, the tag's UetTagAuthKey)
and https://learn.microsoft.com/en-us/advertising/msa-help/hlp_ba_conc_aboutcapi.
Body: `data[]` of `eventType` ("custom" with `eventName` for a conversion goal), `eventId`
(dedup with the UET tag), `eventTime` (Unix seconds), `eventSourceUrl`, `adStorageConsent`
("G" granted / "D" denied), `userData{em, ph (SHA-256; phone E.164 with '+'), msclkid,
clientIpAddress, clientUserAgent}`, `customData{value, currency, transactionId}`;
`continueOnValidationError` keeps one bad event from failing the rest.
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

PLATFORM = "microsoft"
API_VERSION = "v1"
CHECKED = "2026-11-25"
DEFAULT_BASE = "https://capi.uet.microsoft.com"
MAX_BATCH = 1000
MAX_AGE_S = 7 * 86400


def _event(item: Outgoing) -> dict[str, Any]:
    conv = item.conversion
    user: dict[str, Any] = {}
    email = hashing.email(PLATFORM, conv.user_data)
    phone = hashing.phone(PLATFORM, conv.user_data)
    if email:
        user["em"] = email
    if phone:
        user["ph"] = phone
    if item.click_ids.get("msclkid"):
        user["msclkid"] = item.click_ids["msclkid"]
    if item.client_ip:
        user["clientIpAddress"] = item.client_ip
    if item.user_agent:
        user["clientUserAgent"] = item.user_agent
    out: dict[str, Any] = {
        "eventType": "custom",
        "eventName": item.event_name,
        "eventId": conv.event_id,
        "eventTime": int(conv.ts),
        "adStorageConsent": "G" if conv.consent.forwarding else "D",
        "userData": user,
    }
    if item.page_url:
        out["eventSourceUrl"] = item.page_url
    custom: dict[str, Any] = {}
    if conv.value is not None:
        custom["value"] = conv.value
        custom["currency"] = conv.currency
    if conv.order_id:
        custom["transactionId"] = conv.order_id
    if custom:
        out["customData"] = custom
    return out


def build(batch: Sequence[Outgoing], target: Target, now: float) -> httpx.Request:
    return json_request(
        "POST",
        f"{target.base(DEFAULT_BASE)}/{API_VERSION}/{target.credentials['tag_id']}/events",
        {"data": [_event(item) for item in batch], "continueOnValidationError": True},
        headers={"authorization": f"Bearer {target.credentials['access_token']}"},
    )


def classify(response: httpx.Response, batch: Sequence[Outgoing]) -> list[Outcome]:
    whole = by_status(response, batch)
    if whole is not None:
        return whole
    data = body_json(response)
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list) or not errors:
        return all_sent(batch)
    # With continueOnValidationError, refused events are listed by their index.
    out = all_sent(batch)
    for error in errors:
        if isinstance(error, dict) and isinstance(error.get("index"), int):
            index = error["index"]
            if 0 <= index < len(batch):
                out[index] = Outcome("dead", excerpt(str(error.get("message", "refused"))))
    return out
