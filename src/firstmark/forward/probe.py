"""`firstmark destination test` and `POST /api/v1/destinations/{id}/test`: one made-up
conversion sent in the platform's own test mode, and the platform's answer.

Test modes: Meta `test_event_code`, GA4 `/debug/mp/collect`, Google `validateOnly`, TikTok
`test_event_code`, Pinterest `?test=true`, Reddit `test_id`. LinkedIn, Microsoft and Snapchat
have none: their test event is a real one, named `fm-test-…`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, replace

import httpx

from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import Destination
from firstmark.domain.userdata import sha256
from firstmark.errors import InvalidField
from firstmark.forward.adapters import ADAPTERS
from firstmark.forward.adapters.base import Outcome, Outgoing, excerpt
from firstmark.forward.worker import Forwarder, scrub

HAS_TEST_MODE = frozenset({"meta", "ga4", "google_ads", "tiktok", "pinterest", "reddit"})


@dataclass(frozen=True, slots=True)
class ProbeResult:
    event_id: str
    http_status: int | None
    outcome: Outcome
    answer: str  # an excerpt of the platform's body
    test_mode: bool


async def probe(forwarder: Forwarder, dest: Destination, now: float | None = None) -> ProbeResult:
    if not dest.goals:
        raise InvalidField("goals", "map a goal to a platform event first")
    now = time.time() if now is None else now
    goal, event_name = next(iter(dest.goals.items()))
    event_id = f"fm-test-{uuid.uuid4().hex[:12]}"
    conv = Conversion(
        event_id=event_id,
        goal_id=0,
        goal=goal,
        ts=now,
        consent=Consent(analytics=True, ad_user_data=True, ad_storage=True),
        source="server",
        value=1.0,
        currency="EUR",
        user_data={"em": sha256("test@example.com"), "external_id": sha256(event_id)},
    )
    item = Outgoing(0, conv, event_name, page_url=None)
    adapter = ADAPTERS[dest.platform]
    target = replace(forwarder.target(dest), test_mode=True)
    request = adapter.build([item], target, now)
    secrets = list(target.credentials.values())
    try:
        response = await forwarder.client.send(request)
    except httpx.TimeoutException:
        return ProbeResult(event_id, None, Outcome("retry", "timed out"), "", False)
    except httpx.TransportError as exc:
        message = f"transport error: {type(exc).__name__}"
        return ProbeResult(event_id, None, Outcome("retry", message), "", False)
    [outcome] = adapter.classify(response, [item])
    outcome = Outcome(outcome.status, scrub(outcome.message, secrets), outcome.retry_after)
    answer = scrub(excerpt(response.text), secrets) or ""
    return ProbeResult(
        event_id, response.status_code, outcome, answer, dest.platform in HAS_TEST_MODE
    )
