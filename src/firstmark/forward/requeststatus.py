"""Google Data Manager processes ingested events after it answered: `GET
/v1/requestStatus:retrieve?requestId=…` says per destination whether the request's events
succeeded (SUCCESS, PARTIAL_SUCCESS, FAILED or still PROCESSING), with error and warning
counts by reason. The outbox worker polls it for recent sent requests and writes the result
into the delivery log's `diagnostics`, so a rejected click id shows in firstmark, not weeks
later in Google Ads.

Checked 2026-12-03 against
https://developers.google.com/data-manager/api/reference/rest/v1/requestStatus/retrieve
(RetrieveRequestStatusResponse.requestStatusPerDestination[]: requestStatus, errorInfo
{errorCounts[{recordCount, reason}]}, warningInfo{warningCounts[…]}, eventsIngestionStatus
{recordCount}).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from firstmark.domain.destinations import Destination
from firstmark.forward.adapters import google_ads
from firstmark.forward.adapters.base import USER_AGENT, excerpt

log = logging.getLogger("firstmark.forward")

WINDOW_S = 2 * 86400  # Google keeps a request's status for a while; look two days back
PER_ROUND = 50  # requests asked about per destination and round
FINAL = ("SUCCESS", "PARTIAL_SUCCESS", "FAILED")


def diagnostics(data: Any) -> str | None:
    """One line from a retrieve answer: "SUCCESS: 12 records" or "FAILED: 3
    INVALID_GCLID; 1 …"; None when the answer says nothing usable."""
    statuses = data.get("requestStatusPerDestination") if isinstance(data, dict) else None
    if not isinstance(statuses, list) or not statuses:
        return None
    parts = []
    for one in statuses:
        if not isinstance(one, dict):
            continue
        status = str(one.get("requestStatus", "REQUEST_STATUS_UNKNOWN"))
        counts = (one.get("eventsIngestionStatus") or {}).get("recordCount")
        text = status + (f": {counts} records" if counts is not None else "")
        for key, list_key in (("errorInfo", "errorCounts"), ("warningInfo", "warningCounts")):
            for entry in (one.get(key) or {}).get(list_key) or []:
                if isinstance(entry, dict):
                    text += f"; {entry.get('recordCount', '?')} {entry.get('reason', '')}".rstrip()
        parts.append(text)
    if not parts:
        return None
    # The least finished status first, so "PROCESSING" lines are polled again.
    parts.sort(key=lambda p: p.startswith(FINAL))
    return excerpt(" | ".join(parts))


def request(base: str, access_token: str, request_id: str) -> httpx.Request:
    return httpx.Request(
        "GET",
        f"{base}/{google_ads.API_VERSION}/requestStatus:retrieve",
        params={"requestId": request_id},
        headers={"authorization": f"Bearer {access_token}", "user-agent": USER_AGENT},
    )


def polls(dest: Destination) -> bool:
    """Whether the destination sends through Data Manager (the legacy API answers at once)."""
    return dest.platform == google_ads.PLATFORM and dest.options.get("api") != "legacy"
