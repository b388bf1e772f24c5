"""GA4 Measurement Protocol: `POST www.google-analytics.com/mp/collect?measurement_id=&api_secret=`.

Checked 2026-11-25 against
https://developers.google.com/analytics/devguides/collection/ga4/uid-data (user_data with
sha256_email_address[] / sha256_phone_number[], Google's normalisation: gmail dots removed,
E.164 phones) and the Data Manager field mappings of /mp/collect
https://developers.google.cn/data-manager/api/devguides/events/analytics/measurement-protocol/upgrade/field-mappings.md.txt
(client_id required for web, timestamp_micros, consent, events[]).

One request carries one client: `client_id` is our first-party visitor id (analytics consent),
else a per-conversion pseudonymous id. At most 25 events a request, at most 72 hours back.
Production always answers 2xx, whatever it thinks of the payload; test mode sends to
`/debug/mp/collect`, whose `validationMessages` name what is wrong.
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

PLATFORM = "ga4"
API_VERSION = "mp"
CHECKED = "2026-11-25"
DEFAULT_BASE = "https://www.google-analytics.com"
MAX_BATCH = 25
MAX_AGE_S = 72 * 3600


def client_id(item: Outgoing) -> str:
    conv = item.conversion
    return conv.visitor_id or f"fm.{conv.id if conv.id is not None else conv.event_id}"


def batch_key(item: Outgoing) -> str:
    return client_id(item)


def build(batch: Sequence[Outgoing], target: Target, now: float) -> httpx.Request:
    first = batch[0].conversion
    consent = first.consent
    payload: dict[str, Any] = {
        "client_id": client_id(batch[0]),
        "consent": {
            "ad_user_data": "GRANTED" if consent.ad_user_data else "DENIED",
            "ad_personalization": "GRANTED" if consent.ad_personalization else "DENIED",
        },
        "events": [],
    }
    user: dict[str, list[str]] = {}
    email = hashing.email(PLATFORM, first.user_data)
    phone = hashing.phone(PLATFORM, first.user_data)
    if email:
        user["sha256_email_address"] = [email]
    if phone:
        user["sha256_phone_number"] = [phone]
    if user:
        payload["user_data"] = user
    for item in batch:
        conv = item.conversion
        params: dict[str, Any] = {"transaction_id": conv.order_id or conv.event_id}
        if conv.value is not None:
            params["value"] = conv.value
            params["currency"] = conv.currency
        payload["events"].append(
            {"name": item.event_name, "timestamp_micros": int(conv.ts * 1_000_000),
             "params": params}
        )  # fmt: skip
    path = "/debug/mp/collect" if target.test_mode else "/mp/collect"
    return json_request(
        "POST",
        f"{target.base(DEFAULT_BASE)}{path}",
        payload,
        params={
            "measurement_id": target.credentials["measurement_id"],
            "api_secret": target.credentials["api_secret"],
        },
    )


def classify(response: httpx.Response, batch: Sequence[Outgoing]) -> list[Outcome]:
    whole = by_status(response, batch)
    if whole is not None:
        return whole
    data = body_json(response)
    messages = data.get("validationMessages") if isinstance(data, dict) else None
    if messages:
        first = messages[0] if isinstance(messages[0], dict) else {}
        text = f"{first.get('fieldPath', '')}: {first.get('description', '')}"
        return [Outcome("dead", excerpt(text))] * len(batch)
    return all_sent(batch)
