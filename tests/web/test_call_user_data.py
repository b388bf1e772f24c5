"""A qualified call forwarded as a conversion carries the caller's hashed number and the
session's click ids (under ads consent), for Twilio, Vonage and Telnyx, although the webhook
that qualifies a call (the dialled leg's end) never names the caller; whatever order the
webhooks come in. A platform that needs an identifier the call lacks gets nothing: the row
is skipped with the reason."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from calltools import telnyx_post, twilio_post, vonage_post, with_providers
from firstmark.config import Settings
from firstmark.domain.calls import CallEvent, Lease
from firstmark.domain.consent import Consent
from firstmark.domain.phones import hash_key
from firstmark.domain.userdata import sha256
from firstmark.services import calls as calls_service
from firstmark.services import destinations as destinations_service
from firstmark.services.numbers import CALL_GOAL, register
from firstmark.store import CallQuery, Store

TRACKING, BUSINESS, CALLER = "+14155550123", "+14155550199", "+14155559876"
ADS = Consent(analytics=True, ad_storage=True, ad_user_data=True, ad_personalization=True)
PHONE_HASH = sha256(CALLER[1:])  # Meta: digits with the country code, no '+'


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_providers(settings)


class Platforms:
    """Mock Meta and LinkedIn: requests kept by host."""

    def __init__(self) -> None:
        self.meta: list[dict[str, Any]] = []
        self.linkedin: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if request.url.host == "graph.facebook.com":
            self.meta.append(body)
            return httpx.Response(200, json={"events_received": len(body["data"])})
        self.linkedin.append(body)
        return httpx.Response(201, json={"elements": [{"status": 201}]})


async def scene(
    store: Store, app: Any, provider_name: str, consent: Consent = ADS,
    click_ids: dict[str, str] | None = None,
) -> Platforms:  # fmt: skip
    """A pool number shown to a session with `consent`, Meta and LinkedIn mapped to calls."""
    now = time.time()
    await register(
        store, {"number": TRACKING, "provider": provider_name, "forward_to": BUSINESS,
                "pool": "website", "qualify_seconds": 30}, now - 60,
    )  # fmt: skip
    lease = await store.take_lease(
        Lease(id="lease-1", pool="website", started=now - 30, expires=now + 1800,
              consent=consent, click_ids=click_ids or {"fbclid": "fb-click-77"}),
        now - 30,
    )  # fmt: skip
    assert lease is not None
    sealer = app.state.runtime.credentials_sealer
    for body in (
        {"platform": "meta", "name": "meta", "goals": {CALL_GOAL: "Contact"},
         "credentials": {"pixel_id": "1", "access_token": "EAAB-token"}},
        {"platform": "linkedin", "name": "linkedin", "goals": {CALL_GOAL: "104012"},
         "credentials": {"access_token": "li-token"}},
    ):  # fmt: skip
        await destinations_service.create(store, sealer, body)
    platforms = Platforms()
    app.state.runtime.forwarder.client = httpx.AsyncClient(transport=httpx.MockTransport(platforms))
    return platforms


async def twilio_call(http: httpx.AsyncClient) -> None:
    inbound = {"CallSid": "CA1", "From": CALLER, "To": TRACKING, "CallStatus": "ringing"}
    assert (await twilio_post(http, "/hooks/twilio/voice", inbound)).status_code == 200
    # The dialled leg's status callback: its From/To are that leg's, not the caller's.
    leg = {"CallSid": "CA2", "ParentCallSid": "CA1", "From": TRACKING, "To": BUSINESS}
    for status in ("ringing", "in-progress"):
        await twilio_post(http, "/hooks/twilio/status", {**leg, "CallStatus": status})
    done = {**leg, "CallStatus": "completed", "CallDuration": "75"}
    assert (await twilio_post(http, "/hooks/twilio/status", done)).status_code in (200, 204)


async def vonage_call(http: httpx.AsyncClient) -> None:
    answer = {"from": CALLER[1:], "to": TRACKING[1:], "uuid": "in", "conversation_uuid": "C1"}
    assert (await vonage_post(http, "/hooks/vonage/answer", answer)).status_code == 200
    out = {"conversation_uuid": "C1", "uuid": "out", "direction": "outbound",
           "from": TRACKING[1:], "to": BUSINESS[1:]}  # fmt: skip
    await vonage_post(http, "/hooks/vonage/event", {**out, "status": "answered"})
    await vonage_post(http, "/hooks/vonage/event", {**out, "status": "completed", "duration": "75"})


async def telnyx_call(http: httpx.AsyncClient) -> None:
    inbound = {"CallSid": "v3:in", "From": CALLER, "To": TRACKING, "CallStatus": "ringing"}
    assert (await telnyx_post(http, "/hooks/telnyx/texml", inbound)).status_code == 200
    leg = {"CallSid": "v3:out", "ParentCallSid": "v3:in", "From": TRACKING, "To": BUSINESS}
    done = {**leg, "CallStatus": "completed", "CallDuration": "75"}
    assert (await telnyx_post(http, "/hooks/telnyx/status", done)).status_code in (200, 204)


FLOWS: dict[str, Callable[[httpx.AsyncClient], Awaitable[None]]] = {
    "twilio": twilio_call, "vonage": vonage_call, "telnyx": telnyx_call,
}  # fmt: skip


@pytest.mark.parametrize("name", list(FLOWS))
async def test_a_qualified_call_carries_the_callers_hash_and_the_sessions_click_ids(
    store: Store, app: Any, provider: httpx.AsyncClient, settings: Settings, name: str
) -> None:
    platforms = await scene(store, app, name)
    await FLOWS[name](provider)
    found, _ = await store.list_calls(CallQuery(limit=10))
    [call] = found
    assert call.conversion_id is not None and call.status == "completed"
    await app.state.runtime.forwarder.drain()
    [request] = platforms.meta
    [event] = request["data"]
    assert event["user_data"]["ph"] == [PHONE_HASH]
    assert event["user_data"]["fbc"].endswith(".fb-click-77")
    # LinkedIn matches no phone numbers: skipped with the reason, never sent empty.
    assert platforms.linkedin == []
    [linkedin] = [d for d in await store.list_destinations() if d.platform == "linkedin"]
    assert linkedin.id is not None
    [skipped] = await store.list_deliveries(linkedin.id)
    assert skipped.status == "dead" and "linkedin needs one of li_fat_id, em" in str(skipped.error)
    await app.state.runtime.forwarder.client.aclose()
    # The number itself is nowhere in the database, only its hashes.
    await store.close()
    raw = Path(settings.database_url.removeprefix("sqlite:///")).read_bytes()
    assert CALLER.encode() not in raw and CALLER[1:].encode() not in raw


async def test_without_ads_consent_the_call_keeps_no_platform_hash(
    store: Store, app: Any, provider: httpx.AsyncClient
) -> None:
    platforms = await scene(store, app, "twilio", consent=Consent(analytics=True))
    await twilio_call(provider)
    [call] = (await store.list_calls(CallQuery(limit=10)))[0]
    assert call.caller_hashed is None and call.caller_last2 == "76"
    await app.state.runtime.forwarder.drain()
    assert platforms.meta == [] and platforms.linkedin == []  # nothing is queued
    await app.state.runtime.forwarder.client.aclose()


KEY = hash_key("test-secret")


@pytest.mark.parametrize(
    "order",
    [
        ("ring-with-caller", "answered", "completed"),
        ("answered", "ring-with-caller", "completed"),
        ("ring-anonymous", "completed", "dial-with-caller"),
    ],
)
async def test_the_caller_is_kept_whatever_order_the_webhooks_come_in(
    store: Store, app: Any, order: tuple[str, ...]
) -> None:
    platforms = await scene(store, app, "twilio")
    now = time.time()
    events = {
        "ring-with-caller": CallEvent("twilio", "CA9", now - 20, "ringing", to=TRACKING,
                                      caller=CALLER),
        "ring-anonymous": CallEvent("twilio", "CA9", now - 20, "ringing", to=TRACKING),
        "answered": CallEvent("twilio", "CA9", now - 15, "answered", to=TRACKING),
        "completed": CallEvent("twilio", "CA9", now, "completed", duration_s=75),
        "dial-with-caller": CallEvent("twilio", "CA9", now, "completed", to=TRACKING,
                                      caller=CALLER, duration_s=75),
    }  # fmt: skip
    for step in order:
        if step.startswith("ring"):
            await calls_service.incoming(store, events[step], KEY)
        else:
            await calls_service.progress(store, events[step], KEY)
    [call] = (await store.list_calls(CallQuery(limit=10)))[0]
    assert call.conversion_id is not None
    await app.state.runtime.forwarder.drain()
    [request] = platforms.meta
    assert request["data"][0]["user_data"]["ph"] == [PHONE_HASH]
    await app.state.runtime.forwarder.client.aclose()
