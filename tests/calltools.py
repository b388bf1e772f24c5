"""Tracking numbers and calls put straight into a store, as the webhooks would leave them:
a call merged from its first and last webhook (Store.apply_call) and, when it lasted its
number's qualifying time, a conversion of source "call" tied to it. And the webhooks
themselves: settings that trust Twilio, Vonage and Telnyx, and requests signed as each signs
them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from twilio.request_validator import RequestValidator

from firstmark.config import Settings
from firstmark.domain import calls
from firstmark.domain.calls import Call, CallEvent, Lease
from firstmark.domain.numbers import TrackingNumber
from firstmark.domain.phones import hash_key
from firstmark.services import numbers as numbers_service
from firstmark.store import Store

KEY = hash_key("test-secret")
SHOP_LINE = "+442079460999"
CALLER = "+447700900123"
PUBLIC = "https://track.example.com"
TWILIO_TOKEN = "twilio-auth-token-0123456789abcdef"
VONAGE_SECRET = "vonage-signature-secret-0123456789"
TELNYX_KEY = Ed25519PrivateKey.generate()
TELNYX_PUBLIC = base64.b64encode(
    TELNYX_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
).decode()


async def number(store: Store, e164: str, **fields: Any) -> TrackingNumber:
    """A number registered as the API registers it (link_id, campaign, pool, label…)."""
    body = {"number": e164, "provider": "twilio", "forward_to": SHOP_LINE, **fields}
    return await numbers_service.register(store, body, time.time() - 86_400)


async def call(
    store: Store,
    tracked: TrackingNumber,
    call_id: str,
    *,
    talk: int | None = 75,
    status: str = "completed",
    ts: float | None = None,
    lease: Lease | None = None,
    caller: str = CALLER,
) -> Call:
    """One call to `tracked`, `talk` seconds long; a static number's call is attributed to
    its link or campaign, a pool number's to `lease`."""
    started = time.time() - 600 if ts is None else ts
    link = None
    if tracked.link_id is not None and lease is None:
        found = await store.get_link(tracked.link_id)
        assert found is not None
        link = {
            "campaign": found.campaign, "utm_source": found.utm_source,
            "utm_medium": found.utm_medium, "utm_campaign": found.utm_campaign,
            "utm_content": found.utm_content,
        }  # fmt: skip
    ring = CallEvent("twilio", call_id, started, "ringing", to=tracked.e164, caller=caller)
    end = CallEvent(
        "twilio", call_id, started + 5 + (talk or 20), status, to=tracked.e164, duration_s=talk
    )
    first = calls.new_call(ring, tracked, lease=lease, link=link, hash_key=KEY)
    stored, before = await store.apply_call(first, ring)
    assert stored is not None and before is None
    stored, _ = await store.apply_call(None, end)
    assert stored is not None and stored.id is not None
    if not calls.qualifies(stored, tracked):
        return stored
    goal = await numbers_service.ensure_call_goal(store)
    conversion = calls.to_conversion(stored, tracked, goal, lease=lease, caller=None)
    [(saved, duplicate)] = await store.insert_conversions([conversion])
    assert saved.id is not None and not duplicate and saved.source == "call"
    await store.set_call_conversion(stored.id, saved.id)
    found_call = await store.get_call("twilio", call_id)
    assert found_call is not None
    return found_call


# --- the providers' webhooks ---------------------------------------------------------------


def with_providers(settings: Settings) -> Settings:
    """The settings served at PUBLIC, with every provider's secret, so all three are trusted."""
    return replace(
        settings,
        base_url=PUBLIC,
        twilio_auth_token=TWILIO_TOKEN,
        vonage_signature_secret=VONAGE_SECRET,
        telnyx_public_key=TELNYX_PUBLIC,
    )


def twilio_post(
    client: httpx.AsyncClient, path: str, params: dict[str, str], *, sign_url: str | None = None
) -> Any:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(sign_url or PUBLIC + path, params)
    return client.post(path, data=params, headers={"x-twilio-signature": signature})


def vonage_jwt(body: bytes, secret: str = VONAGE_SECRET, iat: float | None = None) -> str:
    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = {"iat": int(iat or time.time()), "jti": secrets.token_hex(8),
              "payload_hash": hashlib.sha256(body).hexdigest(), "api_key": "abc123"}  # fmt: skip
    signing = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}"
    mac = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def vonage_post(client: httpx.AsyncClient, path: str, data: dict[str, Any], **kw: Any) -> Any:
    body = json.dumps(data).encode()
    headers = {"authorization": f"Bearer {vonage_jwt(body, **kw)}",
               "content-type": "application/json"}  # fmt: skip
    return client.post(path, content=body, headers=headers)


def telnyx_post(
    client: httpx.AsyncClient, path: str, params: dict[str, str], *, age: float = 0,
    key: Ed25519PrivateKey = TELNYX_KEY,
) -> Any:  # fmt: skip
    body = urlencode(params).encode()
    stamp = str(int(time.time() - age))
    signature = base64.b64encode(key.sign(stamp.encode() + b"|" + body)).decode()
    headers = {"telnyx-signature-ed25519": signature, "telnyx-timestamp": stamp,
               "content-type": "application/x-www-form-urlencoded"}  # fmt: skip
    return client.post(path, content=body, headers=headers)
