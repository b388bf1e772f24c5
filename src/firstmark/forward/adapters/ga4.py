"""GA4 Measurement Protocol: `POST www.google-analytics.com/mp/collect?measurement_id=&api_secret=`.

Checked 2026-11-25 against
https://developers.google.com/analytics/devguides/collection/ga4/uid-data (user_data with
sha256_email_address[] / sha256_phone_number[], Google's normalisation: gmail dots removed,
E.164 phones) and the Data Manager field mappings of /mp/collect
https://developers.google.cn/data-manager/api/devguides/events/analytics/measurement-protocol/upgrade/field-mappings.md.txt
(client_id required for web, timestamp_micros, consent, events[]).

One request carries one client, one consent state and one user: `client_id` is GA's own
(the `_ga` cookie fm.js reads under analytics consent, click id `ga_client_id`), else our
first-party visitor id, else a per-conversion pseudonymous id; `session_id` (from
`_ga_<container>`) goes in the event params, so the conversion joins GA's session and the ad
click behind it. `user_id` is the hashed external id when user data carries one;
`engagement_time_msec` is set so GA counts the event as engaged. At most 25 events a request,
72 hours back; with `options.ads_export` (events exported to Google Ads) at most two business
days back, which Google Ads' import takes. Consent and user data are per event: events that
differ in either never share a request.
Production always answers 2xx, whatever it thinks of the payload; test mode sends to
`/debug/mp/collect`, whose `validationMessages` name what is wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
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


ENGAGEMENT_MSEC = 1


def client_id(item: Outgoing) -> str:
    conv = item.conversion
    ga = item.click_ids.get("ga_client_id")
    if ga:
        return ga
    return conv.visitor_id or f"fm.{conv.id if conv.id is not None else conv.event_id}"


def _user(item: Outgoing) -> dict[str, list[str]]:
    data = item.conversion.user_data
    user: dict[str, list[str]] = {}
    email, phone = hashing.email(PLATFORM, data), hashing.phone(PLATFORM, data)
    if email:
        user["sha256_email_address"] = [email]
    if phone:
        user["sha256_phone_number"] = [phone]
    return user


def batch_key(item: Outgoing) -> str:
    """Client, consent and user: what a request states once for all its events."""
    consent = item.conversion.consent
    user = hashlib.sha256(repr(sorted(item.conversion.user_data.items())).encode()).hexdigest()
    return f"{client_id(item)}|{consent.ad_user_data:d}{consent.ad_personalization:d}|{user}"


def business_days_back(ts: float, days: int = 2) -> float:
    """Seconds from `ts` to the end of the `days`-th business day after it (UTC), so an
    event on a Friday still goes on Tuesday morning."""
    start = datetime.fromtimestamp(ts, UTC)
    day, left = start.date(), days
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return min(end.timestamp() - ts, MAX_AGE_S)


def max_age(options: Mapping[str, Any], ts: float) -> float:
    return business_days_back(ts) if options.get("ads_export") else float(MAX_AGE_S)


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
    if first.user_data.get("external_id"):
        payload["user_id"] = first.user_data["external_id"]
    user = _user(batch[0])
    if user:
        payload["user_data"] = user
    for item in batch:
        conv = item.conversion
        params: dict[str, Any] = {
            "transaction_id": conv.order_id or conv.event_id,
            "engagement_time_msec": ENGAGEMENT_MSEC,
        }
        session = item.click_ids.get("ga_session_id")
        if session and session.isdigit():
            params["session_id"] = int(session)
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
