"""Voice webhooks over the ASGI app: signatures checked by the providers' own rules (Twilio's
computed by the official `twilio` package), forwarding replies, calls stored once, and a call
long enough becoming one conversion."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from twilio.request_validator import RequestValidator

from calltools import (
    PUBLIC,
    TELNYX_KEY,
    TWILIO_TOKEN,
    VONAGE_SECRET,
    telnyx_post,
    twilio_post,
    vonage_jwt,
    vonage_post,
    with_providers,
)
from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.domain.calls import Lease
from firstmark.domain.consent import Consent
from firstmark.domain.links import Link
from firstmark.services.numbers import register
from firstmark.store import CallQuery, Store

TRACKING = "+14155550123"
BUSINESS = "+14155550199"
CALLER = "+14155559876"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_providers(settings)


async def number(store: Store, **kw: object) -> int:
    body: dict[str, object] = {
        "number": TRACKING, "provider": "twilio", "forward_to": BUSINESS, **kw,
    }  # fmt: skip
    saved = await register(store, body, time.time())
    assert saved.id is not None
    return saved.id


def voice(sid: str = "CA0001", to: str = TRACKING, **kw: str) -> dict[str, str]:
    return {
        "CallSid": sid, "AccountSid": "AC1", "From": CALLER, "To": to, "CallStatus": "ringing",
        "Direction": "inbound", "ApiVersion": "2010-04-01", **kw,
    }  # fmt: skip


def xml(response: httpx.Response) -> ElementTree.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return ElementTree.fromstring(response.text)


async def calls_of(store: Store) -> list[Any]:
    found, _ = await store.list_calls(CallQuery(limit=100))
    return found


async def test_a_signed_call_is_forwarded_and_stored_without_the_callers_number(
    store: Store, provider: httpx.AsyncClient, settings: Settings
) -> None:
    await number(store, label="Spring poster")
    reply = xml(await twilio_post(provider, "/hooks/twilio/voice", voice()))
    dial = reply.find("Dial")
    assert dial is not None and dial.get("answerOnBridge") == "true"
    assert dial.get("action") == f"{PUBLIC}/hooks/twilio/dial"
    assert dial.get("callerId") == CALLER
    target = dial.find("Number")
    assert target is not None and target.text == BUSINESS
    assert target.get("statusCallback") == f"{PUBLIC}/hooks/twilio/status"
    [call] = await calls_of(store)
    assert call.call_id == "CA0001" and call.status == "ringing" and call.caller_last2 == "76"
    await store.close()
    raw = Path(settings.database_url.removeprefix("sqlite:///")).read_bytes()
    for leaked in (CALLER, CALLER[1:], "5559876"):
        assert leaked.encode() not in raw


@pytest.mark.parametrize("tamper", ["param", "url", "missing", "garbage"])
async def test_a_bad_signature_is_refused_and_nothing_is_stored(
    store: Store, provider: httpx.AsyncClient, tamper: str
) -> None:
    await number(store)
    params = voice()
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        PUBLIC + "/hooks/twilio/voice", params
    )
    headers = {"x-twilio-signature": signature}
    if tamper == "param":
        params = {**params, "From": "+14155550000"}
    elif tamper == "url":
        headers["x-twilio-signature"] = RequestValidator(TWILIO_TOKEN).compute_signature(
            "https://evil.example/hooks/twilio/voice", params
        )
    elif tamper == "missing":
        headers = {}
    else:
        headers["x-twilio-signature"] = "bm90IGEgc2lnbmF0dXJl"
    response = await provider.post("/hooks/twilio/voice", data=params, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    assert await calls_of(store) == []


async def test_an_unknown_number_hears_a_polite_goodbye(
    store: Store, provider: httpx.AsyncClient
) -> None:
    reply = xml(await twilio_post(provider, "/hooks/twilio/voice", voice(to="+14155550111")))
    assert [child.tag for child in reply] == ["Say", "Hangup"]
    assert "not in service" in (reply.findtext("Say") or "")
    assert await calls_of(store) == []


async def test_a_call_missing_fields_hears_a_goodbye_and_a_callback_gets_422(
    store: Store, provider: httpx.AsyncClient
) -> None:
    await number(store)
    params = voice()
    del params["To"]
    reply = xml(await twilio_post(provider, "/hooks/twilio/voice", params))
    assert [child.tag for child in reply] == ["Say", "Hangup"]
    response = await twilio_post(provider, "/hooks/twilio/status", {"CallSid": "CA9"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "CallStatus"
    assert await calls_of(store) == []


async def test_retried_webhooks_store_one_call_and_a_long_call_one_conversion(
    store: Store, provider: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await number(store, qualify_seconds=60)
    for _ in range(3):
        xml(await twilio_post(provider, "/hooks/twilio/voice", voice()))
    child = {"CallSid": "CA0002", "ParentCallSid": "CA0001", "From": CALLER, "To": BUSINESS}
    for status in ("initiated", "ringing", "in-progress"):
        response = await twilio_post(
            provider, "/hooks/twilio/status", {**child, "CallStatus": status}
        )
        assert response.status_code == 204
    done = {**voice(), "DialCallSid": "CA0002", "DialCallStatus": "completed",
            "DialCallDuration": "75", "CallStatus": "in-progress"}  # fmt: skip
    for _ in range(2):
        reply = xml(await twilio_post(provider, "/hooks/twilio/dial", done))
        assert list(reply) == []
    [call] = await calls_of(store)
    assert call.status == "completed" and call.duration_s == 75
    assert call.answered is not None and call.conversion_id is not None
    listed = (await client.get("/api/v1/conversions")).json()
    [conversion] = listed["items"]
    assert conversion["source"] == "call" and conversion["goal"] == "call"
    assert conversion["event_id"] == "call.twilio.CA0001"
    logged = (await client.get("/api/v1/calls")).json()
    assert logged["total"] == 1 and logged["items"][0]["qualified"] is True
    assert logged["items"][0]["caller"] == "…76"


async def test_a_short_call_is_logged_but_not_a_conversion(
    store: Store, provider: httpx.AsyncClient
) -> None:
    await number(store)
    xml(await twilio_post(provider, "/hooks/twilio/voice", voice()))
    done = {**voice(), "DialCallStatus": "completed", "DialCallDuration": "30"}
    xml(await twilio_post(provider, "/hooks/twilio/dial", done))
    [call] = await calls_of(store)
    assert call.status == "completed" and call.conversion_id is None
    missed = {**voice("CA0003"), "DialCallStatus": "no-answer"}
    xml(await twilio_post(provider, "/hooks/twilio/voice", voice("CA0003")))
    xml(await twilio_post(provider, "/hooks/twilio/dial", missed))
    statuses = sorted(c.status for c in await calls_of(store))
    assert statuses == ["completed", "no-answer"]


async def test_the_inbound_legs_own_status_changes_neither_outcome_nor_talk_time(
    store: Store, provider: httpx.AsyncClient
) -> None:
    """A number-level status URL reports the caller's leg: 'completed' whether or not the
    business answered, with ringing in its duration."""
    await number(store)
    xml(await twilio_post(provider, "/hooks/twilio/voice", voice()))
    own = {**voice(), "CallStatus": "completed", "CallDuration": "95"}
    assert (await twilio_post(provider, "/hooks/twilio/status", own)).status_code == 204
    missed = {**voice(), "DialCallStatus": "no-answer"}
    xml(await twilio_post(provider, "/hooks/twilio/dial", missed))
    [call] = await calls_of(store)
    assert call.status == "no-answer" and call.duration_s is None
    xml(await twilio_post(provider, "/hooks/twilio/voice", voice("CA0004")))
    talked = {**voice("CA0004"), "DialCallStatus": "completed", "DialCallDuration": "40"}
    xml(await twilio_post(provider, "/hooks/twilio/dial", talked))
    own = {**voice("CA0004"), "CallStatus": "completed", "CallDuration": "70"}
    assert (await twilio_post(provider, "/hooks/twilio/status", own)).status_code == 204
    call = await store.get_call("twilio", "CA0004")
    assert call is not None and call.duration_s == 40 and call.conversion_id is None


async def test_a_static_number_lands_on_its_links_campaign(
    store: Store, provider: httpx.AsyncClient
) -> None:
    link = await store.insert_link(
        Link(domain="", code="fair", destination="https://shop.example/", utm_source="print",
             utm_medium="poster", utm_campaign="autumn-fair", utm_content="stand-a")
    )  # fmt: skip
    await number(store, link_id=link.id)
    xml(await twilio_post(provider, "/hooks/twilio/voice", voice()))
    [call] = await calls_of(store)
    assert call.channel == "static" and call.link_id == link.id
    assert (call.utm_campaign, call.utm_content) == ("autumn-fair", "stand-a")


async def test_a_pool_number_lands_on_the_session_that_held_it(
    store: Store, provider: httpx.AsyncClient
) -> None:
    await number(store, pool="website")
    now = time.time()
    lease = await store.take_lease(
        Lease(id="lease-abc", pool="website", started=now - 30, expires=now + 1800,
              consent=Consent(analytics=True), utm_source="newsletter", utm_medium="email",
              utm_campaign="black-friday"),
        now - 30,
    )  # fmt: skip
    assert lease is not None and lease.e164 == TRACKING
    xml(await twilio_post(provider, "/hooks/twilio/voice", voice()))
    [call] = await calls_of(store)
    assert call.lease_id == "lease-abc" and call.utm_campaign == "black-friday"
    assert call.channel == "campaign"


async def test_outside_business_hours_the_fallback_rings(
    store: Store, provider: httpx.AsyncClient
) -> None:
    await number(store, fallback_to="+14155550100", hours="mon 00:00-00:01")
    dial = xml(await twilio_post(provider, "/hooks/twilio/voice", voice())).find("Dial")
    assert dial is not None and dial.findtext("Number") == "+14155550100"


async def test_recording_plays_a_notice_first(store: Store, provider: httpx.AsyncClient) -> None:
    await number(store, record=True)
    reply = xml(await twilio_post(provider, "/hooks/twilio/voice", voice()))
    assert [child.tag for child in reply] == ["Say", "Dial"]
    dial = reply.find("Dial")
    assert dial is not None and dial.get("record", "").startswith("record-from-answer")


# --- Vonage -------------------------------------------------------------------------------


async def test_vonage_calls_are_connected_and_completed(
    store: Store, provider: httpx.AsyncClient
) -> None:
    await number(store, provider="vonage", qualify_seconds=60)
    answer = {"from": CALLER[1:], "to": TRACKING[1:], "uuid": "leg-in",
              "conversation_uuid": "CON-1"}  # fmt: skip
    response = await vonage_post(provider, "/hooks/vonage/answer", answer)
    assert response.status_code == 200
    ncco = response.json()
    connect = next(action for action in ncco if action["action"] == "connect")
    assert connect["endpoint"] == [{"type": "phone", "number": BUSINESS[1:]}]
    assert connect["eventUrl"] == [f"{PUBLIC}/hooks/vonage/event"]
    out = {"conversation_uuid": "CON-1", "uuid": "leg-out", "direction": "outbound",
           "from": TRACKING[1:], "to": BUSINESS[1:]}  # fmt: skip
    for status in ("started", "ringing", "answered"):
        response = await vonage_post(provider, "/hooks/vonage/event", {**out, "status": status})
        assert response.status_code == 204
    await vonage_post(
        provider, "/hooks/vonage/event", {**out, "status": "completed", "duration": "75"}
    )
    [call] = await calls_of(store)
    assert call.provider == "vonage" and call.call_id == "CON-1"
    assert call.status == "completed" and call.conversion_id is not None


async def test_vonage_answer_by_get_is_signed_over_its_query(
    store: Store, provider: httpx.AsyncClient
) -> None:
    """Vonage's default answer method is GET: the JWT's payload_hash covers the query."""
    await number(store, provider="vonage")
    query = {"from": CALLER[1:], "to": TRACKING[1:], "uuid": "leg-in",
             "conversation_uuid": "CON-3"}  # fmt: skip
    token = vonage_jwt(json.dumps(query, separators=(",", ":")).encode())
    headers = {"authorization": f"Bearer {token}"}
    response = await provider.get("/hooks/vonage/answer", params=query, headers=headers)
    assert response.status_code == 200, response.text
    assert any(action["action"] == "connect" for action in response.json())
    tampered = {**query, "to": "14155550100"}
    response = await provider.get("/hooks/vonage/answer", params=tampered, headers=headers)
    assert response.status_code == 403
    assert [c.call_id for c in await calls_of(store)] == ["CON-3"]


@pytest.mark.parametrize("bad", ["secret", "body", "stale", "missing"])
async def test_vonage_without_a_good_jwt_is_refused(
    store: Store, provider: httpx.AsyncClient, bad: str
) -> None:
    await number(store, provider="vonage")
    answer = {"from": CALLER[1:], "to": TRACKING[1:], "conversation_uuid": "CON-2"}
    body = json.dumps(answer).encode()
    token = vonage_jwt(body, secret="wrong" if bad == "secret" else VONAGE_SECRET,
                       iat=time.time() - 3600 if bad == "stale" else None)  # fmt: skip
    if bad == "body":
        body = json.dumps({**answer, "to": "14155550100"}).encode()
    headers = {} if bad == "missing" else {"authorization": f"Bearer {token}"}
    response = await provider.post("/hooks/vonage/answer", content=body, headers=headers)
    assert response.status_code == 403
    assert await calls_of(store) == []


# --- Telnyx -------------------------------------------------------------------------------


async def test_telnyx_calls_are_forwarded_with_texml(
    store: Store, provider: httpx.AsyncClient
) -> None:
    await number(store, provider="telnyx")
    params = {"CallSid": "v3:abc", "From": CALLER, "To": TRACKING, "CallStatus": "ringing"}
    reply = xml(await telnyx_post(provider, "/hooks/telnyx/texml", params))
    dial = reply.find("Dial")
    assert dial is not None and dial.findtext("Number") == BUSINESS
    assert dial.get("action") == f"{PUBLIC}/hooks/telnyx/dial"
    done = {**params, "DialCallStatus": "completed", "DialCallDuration": "61"}
    xml(await telnyx_post(provider, "/hooks/telnyx/dial", done))
    [call] = await calls_of(store)
    assert call.provider == "telnyx" and call.conversion_id is not None


@pytest.mark.parametrize("bad", ["stale", "key", "body"])
async def test_telnyx_without_a_good_signature_is_refused(
    store: Store, provider: httpx.AsyncClient, bad: str
) -> None:
    await number(store, provider="telnyx")
    params = {"CallSid": "v3:abc", "From": CALLER, "To": TRACKING, "CallStatus": "ringing"}
    if bad == "body":
        body = urlencode(params).encode()
        stamp = str(int(time.time()))
        signature = base64.b64encode(TELNYX_KEY.sign(stamp.encode() + b"|" + body)).decode()
        response = await provider.post(
            "/hooks/telnyx/texml",
            content=body + b"&extra=1",
            headers={"telnyx-signature-ed25519": signature, "telnyx-timestamp": stamp},
        )
    else:
        response = await telnyx_post(
            provider, "/hooks/telnyx/texml", params,
            age=600 if bad == "stale" else 0,
            key=Ed25519PrivateKey.generate() if bad == "key" else TELNYX_KEY,
        )  # fmt: skip
    assert response.status_code == 403
    assert await calls_of(store) == []


async def test_webhooks_are_refused_when_the_provider_is_not_configured(
    tmp_path: Path, store: Store
) -> None:
    bare = Settings(database_url=f"sqlite:///{tmp_path}/firstmark.db", secret_key="s",
                    secret_key_file=str(tmp_path / "s"), base_url=PUBLIC)  # fmt: skip
    app = create_app(bare, store)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://10.0.0.5:8000"
    ) as http:
        response = await twilio_post(http, "/hooks/twilio/voice", voice())
    assert response.status_code == 403


async def test_a_qualified_call_is_sent_to_webhooks_once_without_the_caller(
    store: Store, provider: httpx.AsyncClient
) -> None:
    from firstmark.sealing import Sealer
    from firstmark.services import webhooks

    events = ["call.completed", "call.qualified", "conversion.created"]
    await webhooks.create(
        store, Sealer("s", "webhook-secrets"), {"url": "http://127.0.0.1:9/", "events": events},
        allow_private=True,
    )  # fmt: skip
    await number(store, qualify_seconds=60)
    xml(await twilio_post(provider, "/hooks/twilio/voice", voice()))
    done = {**voice(), "DialCallSid": "CA0002", "DialCallStatus": "completed",
            "DialCallDuration": "75", "CallStatus": "in-progress"}  # fmt: skip
    for _ in range(2):
        xml(await twilio_post(provider, "/hooks/twilio/dial", done))
    queued = [json.loads(m.body) for m in await store.claim_webhooks("t", 100, 60.0)]
    assert sorted(b["type"] for b in queued) == sorted(events)
    call = next(b["data"]["call"] for b in queued if b["type"] == "call.qualified")
    assert call["qualified"] is True and call["duration_seconds"] == 75
    assert CALLER.lstrip("+")[-4:] not in json.dumps(queued)
