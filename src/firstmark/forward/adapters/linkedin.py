"""LinkedIn Conversions API: `POST api.linkedin.com/rest/conversionEvents`.

Checked 2026-11-25 against
https://learn.microsoft.com/en-us/linkedin/marketing/integrations/ads-reporting/conversions-api
(via its request schema StreamMultipleConversionEventsRequest and the Conversions FAQ:
versioned API, Marketing Version 202511 sunset on 2026-11-16) and
https://developer.salesforce.com/docs/data/data-cloud-int/guide/c360-a-linkedincapi-connector.html
(batches up to 5,000 events; events older than 90 days are rejected).
Headers: `LinkedIn-Version`, `X-Restli-Protocol-Version: 2.0.0`, and for batches
`X-RestLi-Method: BATCH_CREATE` with `{"elements": [...]}`. Each element: `conversion`
(urn:lla:llaPartnerConversion:{rule id}), `conversionHappenedAt` (epoch ms), `eventId`,
`conversionValue{currencyCode, amount (decimal string)}`, `user.userIds[]` (required, may be
empty) with SHA256_EMAIL and LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID (li_fat_id).

Goals map to conversion rule ids. A BATCH_CREATE answers a status per element. An event
with no accepted identifier (hashed email or li_fat_id) is skipped with the reason rather
than sent with an empty `userIds`; event ids longer than LinkedIn's 64 characters go as their
SHA-256 hex (64, the same every time, so retries still deduplicate); amounts are exact in the
currency's minor unit (JPY without decimals).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import httpx

from firstmark.forward import hashing
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
    minor_amount,
    retryable_status,
)

PLATFORM = "linkedin"
API_VERSION = "202603"
CHECKED = "2026-11-25"
DEFAULT_BASE = "https://api.linkedin.com"
MAX_BATCH = 5000
MAX_AGE_S = 90 * 86400
MAX_EVENT_ID = 64


def event_id(value: str) -> str:
    if len(value) <= MAX_EVENT_ID:
        return value
    return hashlib.sha256(value.encode()).hexdigest()


def unsendable(item: Outgoing, target: Target) -> str | None:
    if hashing.email(PLATFORM, item.conversion.user_data) or item.click_ids.get("li_fat_id"):
        return None
    return "skipped: linkedin needs a hashed email or li_fat_id and this conversion has neither"


def _element(item: Outgoing) -> dict[str, Any]:
    conv = item.conversion
    user_ids: list[dict[str, str]] = []
    email = hashing.email(PLATFORM, conv.user_data)
    if email:
        user_ids.append({"idType": "SHA256_EMAIL", "idValue": email})
    if item.click_ids.get("li_fat_id"):
        user_ids.append(
            {
                "idType": "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID",
                "idValue": item.click_ids["li_fat_id"],
            }
        )
    out: dict[str, Any] = {
        "conversion": f"urn:lla:llaPartnerConversion:{item.event_name}",
        "conversionHappenedAt": int(conv.ts * 1000),
        "eventId": event_id(conv.event_id),
        "user": {"userIds": user_ids},
    }
    if conv.value is not None:
        out["conversionValue"] = {
            "currencyCode": conv.currency,
            "amount": minor_amount(conv.value, conv.currency),
        }
    return out


def build(batch: Sequence[Outgoing], target: Target, now: float) -> httpx.Request:
    return json_request(
        "POST",
        f"{target.base(DEFAULT_BASE)}/rest/conversionEvents",
        {"elements": [_element(item) for item in batch]},
        headers={
            "authorization": f"Bearer {target.credentials['access_token']}",
            "linkedin-version": API_VERSION,
            "x-restli-protocol-version": "2.0.0",
            "x-restli-method": "BATCH_CREATE",
        },
    )


def classify(response: httpx.Response, batch: Sequence[Outgoing]) -> list[Outcome]:
    whole = by_status(response, batch)
    if whole is not None:
        return whole
    data = body_json(response)
    elements = data.get("elements") if isinstance(data, dict) else None
    if not isinstance(elements, list) or len(elements) != len(batch):
        return all_sent(batch)
    out: list[Outcome] = []
    for element in elements:
        status = element.get("status", 201) if isinstance(element, dict) else 201
        if 200 <= status < 300:
            out.append(SENT)
            continue
        error = element.get("error") or {}
        message = excerpt(
            f"HTTP {status}: {error.get('message', '') if isinstance(error, dict) else error}"
        )
        out.append(Outcome("retry" if retryable_status(status) else "dead", message))
    return out
