"""Google Ads through the Data Manager API: `POST datamanager.googleapis.com/v1/events:ingest`,
with the legacy Google Ads API `customers/{cid}:uploadClickConversions` as an option
(`options.api = "legacy"`, for accounts still on it).

Checked 2026-11-25 against
https://developers.google.com/data-manager/api/reference/rest/v1/events (events.ingest),
https://docs.cloud.google.com/php/docs/reference/data-manager/latest/V1.IngestEventsRequest
(destinations, events ≤ 2000, consent, validate_only, encoding),
https://docs.cloud.google.com/php/docs/reference/data-manager/latest/V1.Event
(transaction_id, event_timestamp, user_data, consent, ad_identifiers, currency,
conversion_value, event_source) and the destinations guide
https://developers.google.cn/data-manager/api/devguides/concepts/destinations.md.txt
(operating account + conversion action as productDestinationId; no login headers).
Legacy: https://developers.google.com/google-ads/api/reference/rpc/v26/ConversionUploadService
(latest active version v26; conversionDateTime "yyyy-mm-dd hh:mm:ss+hh:mm", partialFailure).

Contract: tests/forward/test_contracts.py parses every request built here with Google's own
protos through `json_format.ParseDict` (unknown fields, types and enum values refused):
google-ads-datamanager 0.9.4 `google.ads.datamanager_v1.IngestEventsRequest` and google-ads
34.0.0 `google.ads.googleads.v26.services.UploadClickConversionsRequest`, checked 2026-12-03.

Goals map to conversion action ids. One click id per conversion: gclid, else gbraid, else
wbraid (Google refuses a conversion with two); on the legacy path a braid goes without user
identifiers, which Google does not take beside one. `transactionId` / `orderId` is the order
id, else the event id, on both paths, so switching paths never counts a conversion twice.
Data Manager answers an ingest with a `requestId`; forward/requeststatus.py polls
`requestStatus:retrieve` for it and writes Google's processing diagnostics into the
delivery log. User data: email per Google's formatting guide (gmail
dots and +suffix dropped) and phone in E.164 with '+', SHA-256 hex. Test mode is
`validateOnly`. Data Manager processes asynchronously: a 2xx means accepted; a 400 that names
events (fieldViolations `events[i]…`) fails those events only and the rest go again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from firstmark.domain.conversions import Conversion
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
    rfc3339,
)

PLATFORM = "google_ads"
API_VERSION = "v1"
LEGACY_VERSION = "v26"
CHECKED = "2026-11-25"
DEFAULT_BASE = "https://datamanager.googleapis.com"
LEGACY_BASE = "https://googleads.googleapis.com"
MAX_BATCH = 2000
MAX_AGE_S = 90 * 86400  # click conversions are taken up to 90 days after the click
_EVENT_INDEX = re.compile(r"^(?:events|conversions)\[(\d+)\]")
CLICK_IDS = ("gclid", "gbraid", "wbraid")  # in the order Google prefers them


def click_id(item: Outgoing) -> tuple[str, str] | None:
    """The one click id a conversion is sent with: gclid > gbraid > wbraid."""
    for key in CLICK_IDS:
        if item.click_ids.get(key):
            return key, item.click_ids[key]
    return None


def transaction_id(item: Outgoing) -> str:
    conv = item.conversion
    return conv.order_id or conv.event_id


def _legacy(target: Target) -> bool:
    return target.options.get("api") == "legacy"


def api_version(target: Target) -> str:
    return f"legacy {LEGACY_VERSION}" if _legacy(target) else API_VERSION


def _identifiers(item: Outgoing) -> list[dict[str, str]]:
    ids: list[dict[str, str]] = []
    user_data = item.conversion.user_data
    email, phone = hashing.email(PLATFORM, user_data), hashing.phone(PLATFORM, user_data)
    if email:
        ids.append({"emailAddress": email})
    if phone:
        ids.append({"phoneNumber": phone})
    return ids


def _consent(item: Outgoing) -> dict[str, str]:
    def state(flag: bool) -> str:
        return "CONSENT_GRANTED" if flag else "CONSENT_DENIED"

    consent = item.conversion.consent
    return {
        "adUserData": state(consent.ad_user_data),
        "adPersonalization": state(consent.ad_personalization),
    }


# A CRM deal's action source as the Data Manager API's EventSource.
CRM_EVENT_SOURCES = {"physical_store": "IN_STORE", "system_generated": "OTHER"}


def event_source(conv: Conversion) -> str:
    if conv.action_source:
        return CRM_EVENT_SOURCES.get(conv.action_source, "OTHER")
    return "WEB" if conv.source in ("web", "server") else "PHONE"


def _event(item: Outgoing) -> dict[str, Any]:
    conv = item.conversion
    out: dict[str, Any] = {
        "destinationReferences": [item.event_name],
        "transactionId": transaction_id(item),
        "eventTimestamp": rfc3339(conv.ts),
        "eventSource": event_source(conv),
        "consent": _consent(item),
    }
    click = click_id(item)
    if click is not None:
        out["adIdentifiers"] = {click[0]: click[1]}
    ids = _identifiers(item)
    if ids:
        out["userData"] = {"userIdentifiers": ids}
    if conv.value is not None:
        out["conversionValue"] = conv.value
        out["currency"] = conv.currency
    return out


def _data_manager(batch: Sequence[Outgoing], target: Target) -> httpx.Request:
    creds = target.credentials
    actions = list(dict.fromkeys(item.event_name for item in batch))
    destinations = []
    for action in actions:
        dest: dict[str, Any] = {
            "reference": action,
            "operatingAccount": {
                "accountType": "GOOGLE_ADS",
                "accountId": creds["operating_account_id"].replace("-", ""),
            },
            "productDestinationId": action,
        }
        if creds.get("login_account_id"):
            dest["loginAccount"] = {
                "accountType": target.options.get("login_account_type", "GOOGLE_ADS"),
                "accountId": creds["login_account_id"].replace("-", ""),
            }
        destinations.append(dest)
    payload = {
        "destinations": destinations,
        "events": [_event(item) for item in batch],
        "encoding": "HEX",
        "validateOnly": target.test_mode,
    }
    return json_request(
        "POST",
        f"{target.base(DEFAULT_BASE)}/{API_VERSION}/events:ingest",
        payload,
        headers={"authorization": f"Bearer {creds['access_token']}"},
    )


def conversion_date_time(ts: float) -> str:
    """The legacy API's "yyyy-mm-dd hh:mm:ss+hh:mm" (UTC)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


def _legacy_request(batch: Sequence[Outgoing], target: Target) -> httpx.Request:
    creds = target.credentials
    cid = creds["operating_account_id"].replace("-", "")
    conversions = []
    for item in batch:
        conv = item.conversion
        one: dict[str, Any] = {
            "conversionAction": f"customers/{cid}/conversionActions/{item.event_name}",
            "conversionDateTime": conversion_date_time(conv.ts),
            "orderId": transaction_id(item),
            "consent": {
                "adUserData": "GRANTED" if conv.consent.ad_user_data else "DENIED",
                "adPersonalization": "GRANTED" if conv.consent.ad_personalization else "DENIED",
            },
        }
        click = click_id(item)
        if click is not None:
            one[click[0]] = click[1]
        if conv.value is not None:
            one["conversionValue"] = conv.value
            one["currencyCode"] = conv.currency
        ids = [
            {"hashedEmail": i["emailAddress"]} if "emailAddress" in i
            else {"hashedPhoneNumber": i["phoneNumber"]}
            for i in _identifiers(item)
        ]  # fmt: skip
        if ids and (click is None or click[0] == "gclid"):  # nothing beside a braid
            one["userIdentifiers"] = ids
        conversions.append(one)
    headers = {"authorization": f"Bearer {creds['access_token']}"}
    if creds.get("developer_token"):
        headers["developer-token"] = creds["developer_token"]
    if creds.get("login_account_id"):
        headers["login-customer-id"] = creds["login_account_id"].replace("-", "")
    return json_request(
        "POST",
        f"{target.base(LEGACY_BASE)}/{LEGACY_VERSION}/customers/{cid}:uploadClickConversions",
        {"conversions": conversions, "partialFailure": True, "validateOnly": target.test_mode},
        headers=headers,
    )


def build(batch: Sequence[Outgoing], target: Target, now: float) -> httpx.Request:
    return _legacy_request(batch, target) if _legacy(target) else _data_manager(batch, target)


def _violations(data: Any) -> list[tuple[int, str]]:
    """(event index, description) from a google.rpc BadRequest's fieldViolations, or from
    the legacy partialFailureError's GoogleAdsFailure details."""
    found: list[tuple[int, str]] = []
    error = data.get("error") if isinstance(data, dict) else None
    details = error.get("details", []) if isinstance(error, dict) else []
    if isinstance(data, dict) and isinstance(data.get("partialFailureError"), dict):
        details = data["partialFailureError"].get("details", [])
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, dict):
            continue
        for violation in detail.get("fieldViolations", []) or []:
            match = _EVENT_INDEX.match(str(violation.get("field", "")))
            if match:
                found.append((int(match.group(1)), str(violation.get("description", ""))))
        for err in detail.get("errors", []) or []:
            elements = (err.get("location") or {}).get("fieldPathElements") or []
            for element in elements:
                if element.get("fieldName") == "conversions" and "index" in element:
                    found.append((int(element["index"]), str(err.get("message", ""))))
                    break
    return found


def classify(response: httpx.Response, batch: Sequence[Outgoing]) -> list[Outcome]:
    data = body_json(response)
    if response.status_code == 400:
        bad = {i: m for i, m in _violations(data) if 0 <= i < len(batch)}
        if bad:
            # The request was refused as a whole; the events it did not blame go again.
            again = Outcome("retry", "resent without the events Google refused", 0.0)
            return [
                Outcome("dead", excerpt(f"HTTP 400: {bad[i]}")) if i in bad else again
                for i in range(len(batch))
            ]
    whole = by_status(response, batch)
    if whole is not None:
        return whole
    if isinstance(data, dict) and data.get("partialFailureError"):
        bad = {i: m for i, m in _violations(data) if 0 <= i < len(batch)}
        return [Outcome("dead", excerpt(bad[i])) if i in bad else SENT for i in range(len(batch))]
    return all_sent(batch)
