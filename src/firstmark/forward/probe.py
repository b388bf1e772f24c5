"""`firstmark destination test` and `POST /api/v1/destinations/{id}/test`: one made-up
conversion sent in the platform's own test mode, and the platform's answer.

Test modes: Meta `test_event_code`, GA4 `/debug/mp/collect`, Google `validateOnly`, TikTok
`test_event_code`, Pinterest `?test=true`, Reddit `test_id`, Snapchat `/events/validate`.
Meta, TikTok and Reddit only test with their code set (`options`), so without it the test is
refused (409, naming the option) rather than sending a live event. LinkedIn and Microsoft
have no test mode:
their test event is a real one, named `fm-test-…`, sent only when asked for with `live`.
A test that never reached the platform says so; it is never reported as sent.

The answer never echoes the remote body: `answer` is its status line. `message` is the
platform's own error message (credentials scrubbed, at most MESSAGE_LIMIT characters) only when
the test went to the platform's own host; with an `endpoint_base` of the destination's own it is
the status line too. A test must not turn the server into a way to read what some other URL
says.
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
from firstmark.errors import Conflict, InvalidField
from firstmark.forward.adapters import ADAPTERS
from firstmark.forward.adapters.base import Outcome, Outgoing
from firstmark.forward.tokens import ReauthNeeded, TokenUnavailable
from firstmark.forward.worker import Forwarder, scrub

MESSAGE_LIMIT = 200
HAS_TEST_MODE = frozenset(
    {"meta", "ga4", "google_ads", "tiktok", "pinterest", "reddit", "snapchat"}
)
# Platforms whose test mode needs a code from their events manager, by the option holding it.
TEST_CODE = {"meta": "test_event_code", "tiktok": "test_event_code", "reddit": "test_id"}


def test_mechanism(dest: Destination) -> str | None:
    """Why this destination cannot be tested without sending a live event, or None."""
    option = TEST_CODE.get(dest.platform)
    if option is not None:
        if dest.options.get(option):
            return None
        return (
            f"{dest.platform} tests only with a test code: set options.{option} "
            "(from the platform's test events page) first"
        )
    if dest.platform not in HAS_TEST_MODE:
        return (
            f"{dest.platform} has no test mode: a test sends a real conversion "
            "(named fm-test-…); ask for it with live"
        )
    return None


@dataclass(frozen=True, slots=True)
class ProbeResult:
    event_id: str
    http_status: int | None
    outcome: Outcome
    answer: str  # the status line, e.g. "HTTP 400 Bad Request"; never the body
    test_mode: bool


async def probe(
    forwarder: Forwarder, dest: Destination, now: float | None = None, *, live: bool = False
) -> ProbeResult:
    """Raises Conflict (409) when the platform has no test mechanism configured, or when
    the destination needs re-authorisation."""
    if not dest.goals:
        raise InvalidField("goals", "map a goal to a platform event first")
    missing = test_mechanism(dest)
    if missing is not None and not (live and dest.platform not in TEST_CODE):
        field = f"options.{TEST_CODE[dest.platform]}" if dest.platform in TEST_CODE else "live"
        raise Conflict(missing, field=field, code="no_test_mode")
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
    try:
        opened = await forwarder.target(dest)
    except ReauthNeeded as exc:
        message = f"{dest.name} needs re-authorisation: {exc.message}"
        raise Conflict(message, code="needs_reauth") from None
    except TokenUnavailable as exc:
        return ProbeResult(event_id, None, Outcome("unreachable", exc.message), "", False)
    target = replace(opened, test_mode=True)
    request = adapter.build([item], target, now)
    secrets = list(target.credentials.values())
    try:
        response = await forwarder.client.send(request)
    except httpx.TimeoutException:
        return ProbeResult(event_id, None, Outcome("unreachable", "timed out"), "", False)
    except httpx.TransportError as exc:
        # The address guard's refusal (services/outbound.py) says why; other errors only what.
        text = str(exc)
        why = text if text.startswith("refused: ") else f"could not connect: {type(exc).__name__}"
        return ProbeResult(event_id, None, Outcome("unreachable", why), "", False)
    [outcome] = adapter.classify(response, [item])
    answer = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    shown = scrub(outcome.message, secrets)
    if dest.endpoint_base is not None and shown is not None:
        shown = answer  # not the platform: what it said stays with it
    elif shown is not None and len(shown) > MESSAGE_LIMIT:
        shown = shown[: MESSAGE_LIMIT - 1] + "…"
    outcome = Outcome(outcome.status, shown, outcome.retry_after)
    return ProbeResult(
        event_id, response.status_code, outcome, answer, dest.platform in HAS_TEST_MODE
    )
