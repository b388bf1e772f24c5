"""Voice webhooks of Twilio, Vonage and Telnyx: signed requests in, call-forwarding replies out.

Every request must carry its provider's signature, checked before the body is read into
anything: otherwise 403 and nothing is stored. The reply that forwards a call is built from the
number alone (no outbound call on this path), so a caller hears the business line ring within
milliseconds. A call to a number we do not track, or any trouble on the call path, gets a
polite spoken message and a hang-up: a caller never hears a provider's error tone because of us.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from firstmark.config import Settings
from firstmark.domain import callreplies, providers, signatures
from firstmark.domain.calls import CallEvent
from firstmark.domain.schema import clean_json, clean_text
from firstmark.errors import FirstmarkError, Forbidden
from firstmark.services import calls
from firstmark.web.http import read_body
from firstmark.web.runtime import runtime

log = logging.getLogger("firstmark.calls")

BODY_LIMIT = 64 * 1024
UNKNOWN = "Sorry, this number is not in service. Goodbye."
TROUBLE = "Sorry, we cannot connect your call right now. Please try again later. Goodbye."
NOTICE = "This call may be recorded."
DIAL_TIMEOUT_S = 30
XML = "application/xml"


def public_url(settings: Settings, request: Request) -> str:
    """The URL the provider called, as it signed it: FIRSTMARK_BASE_URL, since a proxy in
    front changes the Host and scheme this process sees."""
    query = request.url.query
    return settings.base_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")


def hook_url(settings: Settings, path: str) -> str:
    return settings.base_url.rstrip("/") + path


async def _body(request: Request) -> bytes:
    return await read_body(request, BODY_LIMIT, lambda: Forbidden("webhook body too large"))


def _refused(provider: str) -> Response:
    log.warning("refused a %s webhook: missing or invalid signature", provider)
    return JSONResponse(
        {"error": {"code": "bad_signature", "message": "missing or invalid webhook signature"}},
        status_code=403,
    )


# --- Twilio and Telnyx (TwiML / TeXML, form-encoded) ------------------------------------------


async def _twilio_params(request: Request) -> dict[str, str] | None:
    """The form parameters, or None when the signature does not match (or is missing).
    Twilio signs with the Auth Token (HMAC-SHA1), or, when its webhook signature settings
    say so, with the SharedKey secret (HMAC-SHA256)."""
    settings = runtime(request).settings
    body = await _body(request)
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    header = request.headers.get("x-twilio-signature", "")
    algorithm = signatures.twilio_algorithm(
        request.headers.get("x-twilio-webhooks-signature-settings")
    )
    sha256 = algorithm == "HMAC_SHA256"
    secret = settings.twilio_shared_key if sha256 else settings.twilio_auth_token
    if algorithm is None or not secret or not header:
        return None
    url = public_url(settings, request)
    if not signatures.twilio_valid(secret, url, pairs, header, sha256=sha256, body=body):
        return None
    return _clean(pairs)


async def _telnyx_params(request: Request) -> dict[str, str] | None:
    settings = runtime(request).settings
    body = await _body(request)
    key = settings.telnyx_public_key
    signature = request.headers.get("telnyx-signature-ed25519", "")
    stamp = request.headers.get("telnyx-timestamp", "")
    if not key or not signature or not stamp:
        return None
    if not signatures.telnyx_valid(key, signature, stamp, body, time.time()):
        return None
    return _clean(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _xml(text: str) -> Response:
    return Response(text, media_type=XML)


async def _markup_voice(request: Request, provider: str) -> Response:
    """A call comes in: forward it (TwiML for Twilio, TeXML for Telnyx)."""
    read = _twilio_params if provider == "twilio" else _telnyx_params
    params = await read(request)
    if params is None:
        return _refused(provider)
    rt = runtime(request)
    try:
        event = providers.texml_incoming(provider, params, time.time())
        handled = await calls.incoming(rt.store, event, rt.caller_key)
    except FirstmarkError as exc:
        log.info("%s call could not be read: %s", provider, exc.message)
        return _xml(callreplies.twiml_goodbye(TROUBLE))
    except Exception:
        log.exception("%s call failed; the caller hears a goodbye", provider)
        return _xml(callreplies.twiml_goodbye(TROUBLE))
    number = handled.number
    if number is None:
        return _xml(callreplies.twiml_goodbye(UNKNOWN))
    dial = callreplies.twiml_dial if provider == "twilio" else callreplies.texml_dial
    return _xml(
        dial(
            caller_id=event.caller or number.e164,
            forward_to=number.destination(event.ts),
            timeout=DIAL_TIMEOUT_S,
            action_url=hook_url(rt.settings, f"/hooks/{provider}/dial"),
            status_url=hook_url(rt.settings, f"/hooks/{provider}/status"),
            record=number.record,
            notice=NOTICE if number.record else None,
        )
    )


async def _markup_progress(
    request: Request, provider: str, read_event: Callable[[str, dict[str, str], float], CallEvent]
) -> Response:
    read = _twilio_params if provider == "twilio" else _telnyx_params
    params = await read(request)
    if params is None:
        return _refused(provider)
    event = read_event(provider, params, time.time())  # InvalidField → 422 naming the field
    rt = runtime(request)
    await calls.progress(rt.store, event, rt.caller_key)
    return Response(status_code=204)


Handler = Callable[[Request], Awaitable[Response]]


def _voice(provider: str) -> Handler:
    """A call comes in (Twilio's voice URL, Telnyx's TeXML URL)."""

    async def handle(request: Request) -> Response:
        return await _markup_voice(request, provider)

    return handle


def _status(provider: str) -> Handler:
    """The forwarded leg's progress (the `<Number statusCallback>`)."""

    async def handle(request: Request) -> Response:
        return await _markup_progress(request, provider, providers.texml_status)

    return handle


def _dial(provider: str) -> Handler:
    """The Dial verb ended: record the outcome; the (empty) reply ends the call."""

    async def handle(request: Request) -> Response:
        response = await _markup_progress(request, provider, providers.texml_dial)
        if response.status_code != 204:
            return response
        return _xml(callreplies.twiml_empty())

    return handle


# --- Vonage (JSON, signed JWT) ----------------------------------------------------------------


async def _vonage_json(request: Request) -> dict[str, Any] | None:
    settings = runtime(request).settings
    body = await _body(request)
    secret = settings.vonage_signature_secret
    header = request.headers.get("authorization", "")
    if not secret or not header:
        return None
    query = request.query_params.multi_items()
    if not signatures.vonage_valid(secret, header, body, time.time(), query=query):
        return None
    if request.method == "GET":
        return _clean(request.query_params.multi_items())
    try:
        data = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        return {}
    return clean_json(data) if isinstance(data, dict) else {}


def _clean(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Signed parameters without NUL or invalid text: the provider's call is still answered
    and nothing unstorable reaches the database."""
    return {clean_text(k): clean_text(v) for k, v in pairs}


def _ncco(data: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(data)


async def vonage_answer(request: Request) -> Response:
    data = await _vonage_json(request)
    if data is None:
        return _refused("vonage")
    rt = runtime(request)
    try:
        event = providers.vonage_answer(data, time.time())
        handled = await calls.incoming(rt.store, event, rt.caller_key)
    except FirstmarkError as exc:
        log.info("vonage call could not be read: %s", exc.message)
        return _ncco(callreplies.ncco_goodbye(TROUBLE))
    except Exception:
        log.exception("vonage call failed; the caller hears a goodbye")
        return _ncco(callreplies.ncco_goodbye(TROUBLE))
    number = handled.number
    if number is None:
        return _ncco(callreplies.ncco_goodbye(UNKNOWN))
    return _ncco(
        callreplies.ncco_connect(
            from_number=number.e164,
            forward_to=number.destination(event.ts),
            timeout=DIAL_TIMEOUT_S,
            event_url=hook_url(rt.settings, "/hooks/vonage/event"),
            record=number.record,
            notice=NOTICE if number.record else None,
        )
    )


async def vonage_event(request: Request) -> Response:
    data = await _vonage_json(request)
    if data is None:
        return _refused("vonage")
    event = providers.vonage_event(data, time.time())
    if event is not None:  # events that say nothing about the call (e.g. transfers) are skipped
        rt = runtime(request)
        await calls.progress(rt.store, event, rt.caller_key)
    return Response(status_code=204)


routes = [
    Route("/hooks/twilio/voice", _voice("twilio"), methods=["POST"]),
    Route("/hooks/twilio/status", _status("twilio"), methods=["POST"]),
    Route("/hooks/twilio/dial", _dial("twilio"), methods=["POST"]),
    Route("/hooks/vonage/answer", vonage_answer, methods=["GET", "POST"]),
    Route("/hooks/vonage/event", vonage_event, methods=["POST"]),
    Route("/hooks/telnyx/texml", _voice("telnyx"), methods=["POST"]),
    Route("/hooks/telnyx/status", _status("telnyx"), methods=["POST"]),
    Route("/hooks/telnyx/dial", _dial("telnyx"), methods=["POST"]),
]
