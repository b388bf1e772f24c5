"""Microsoft Advertising UET Conversions API: `POST capi.uet.microsoft.com/v1/{tagId}/events`.

Checked 2026-11-25 against
https://learn.microsoft.com/en-us/advertising/guides/uet-conversion-api-integration
(server events for a UET tag; `Authorization: Bearer <ApiToken>`, the tag's UetTagAuthKey)
and https://learn.microsoft.com/en-us/advertising/msa-help/hlp_ba_conc_aboutcapi.
Body: `data[]` of `eventType` ("custom" with `eventName` for a conversion goal), `eventId`
(dedup with the UET tag), `eventTime` (Unix seconds), `eventSourceUrl`, `adStorageConsent`
("G" granted / "D" denied), `userData{em, ph (SHA-256; phone E.164 with '+'), msclkid,
clientIpAddress, clientUserAgent}`, `customData{value, currency, transactionId}`;
`continueOnValidationError` keeps one bad event from failing the rest; refused events are
read by index from `errors[]` / `indexedErrors[]` of a 2xx, or from the `details` of a 400.
`adStorageConsent` is the visitor's ad_storage choice. An MSCLKID that is not Microsoft's 32
hex characters is left out (Microsoft refuses the event for it), the rest of the event goes.
"""

from __future__ import annotations

import re
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
    custom_data,
    excerpt,
    json_request,
)

PLATFORM = "microsoft"
API_VERSION = "v1"
CHECKED = "2026-11-25"
DEFAULT_BASE = "https://capi.uet.microsoft.com"
MAX_BATCH = 1000
MAX_AGE_S = 7 * 86400
MSCLKID = re.compile(r"[0-9a-fA-F]{32}")


def msclkid(item: Outgoing) -> str | None:
    value = item.click_ids.get("msclkid")
    return value if value and MSCLKID.fullmatch(value) else None


def _event(item: Outgoing) -> dict[str, Any]:
    conv = item.conversion
    user: dict[str, Any] = {}
    email = hashing.email(PLATFORM, conv.user_data)
    phone = hashing.phone(PLATFORM, conv.user_data)
    if email:
        user["em"] = email
    if phone:
        user["ph"] = phone
    clid = msclkid(item)
    if clid:
        user["msclkid"] = clid
    if item.client_ip:
        user["clientIpAddress"] = item.client_ip
    if item.user_agent:
        user["clientUserAgent"] = item.user_agent
    out: dict[str, Any] = {
        "eventType": "custom",
        "eventName": item.event_name,
        "eventId": conv.event_id,
        "eventTime": int(conv.ts),
        "adStorageConsent": "G" if conv.consent.ad_storage and not conv.consent.gpc else "D",
        "userData": user,
    }
    if item.page_url:
        out["eventSourceUrl"] = item.page_url
    if custom := custom_data(conv, order_key="transactionId"):
        out["customData"] = custom
    return out


def build(batch: Sequence[Outgoing], target: Target, now: float) -> httpx.Request:
    return json_request(
        "POST",
        f"{target.base(DEFAULT_BASE)}/{API_VERSION}/{target.credentials['tag_id']}/events",
        {"data": [_event(item) for item in batch], "continueOnValidationError": True},
        headers={"authorization": f"Bearer {target.credentials['access_token']}"},
    )


def _indexed(data: Any) -> dict[int, str]:
    """Refused events by index, wherever the answer lists them."""
    lists: list[Any] = []
    if isinstance(data, dict):
        lists += [data.get("errors"), data.get("indexedErrors")]
        error = data.get("error")
        if isinstance(error, dict):
            lists += [error.get("details"), error.get("errors")]
    found: dict[int, str] = {}
    for entries in lists:
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            index = entry.get("index", entry.get("eventIndex"))
            if isinstance(index, int):
                text = entry.get("message") or entry.get("errorMessage") or "refused"
                found.setdefault(index, str(text))
    return found


def classify(response: httpx.Response, batch: Sequence[Outgoing]) -> list[Outcome]:
    data = body_json(response)
    bad = {i: m for i, m in _indexed(data).items() if 0 <= i < len(batch)}
    if response.status_code == 400 and bad:
        again = Outcome("retry", "resent without the events Microsoft refused", 0.0)
        return [
            Outcome("dead", excerpt(f"HTTP 400: {bad[i]}")) if i in bad else again
            for i in range(len(batch))
        ]
    whole = by_status(response, batch)
    if whole is not None:
        return whole
    # With continueOnValidationError, refused events are listed by their index.
    out = all_sent(batch)
    for index, message in bad.items():
        out[index] = Outcome("dead", excerpt(message))
    return out
