"""Provider call webhooks, read into `CallEvent`s keyed by the *inbound* call's id.

A tracked call has two legs: the caller's inbound call to the tracking number, and the leg
we dial to the business line. Whether it was answered, and for how long the two talked, is
the second leg's story; the call is stored under the first leg's id. Each reader below knows
where the provider puts which. Numbers are read with `loose_e164`; a missing field raises
`InvalidField` naming it (the route answers a safe reply, nothing stored).

Twilio (docs checked: twilio.com/docs/voice/twiml — "Twilio's request to your application",
/docs/voice/twiml/dial "action" parameters, /docs/voice/twiml/number "statusCallbackEvent",
/docs/voice/api/call-resource statuses):
- incoming call: `CallSid`, `From`/`Caller`, `To`/`Called`, `CallStatus` (ringing), `Direction`;
- `<Number statusCallback>`: the *child* leg: `CallSid` is the business leg, `ParentCallSid`
  the inbound call; `CallStatus` initiated, ringing, in-progress, completed, busy, no-answer,
  failed, canceled; `CallDuration` (the child leg's talk time) on completed; `Timestamp`
  (RFC 2822). Its `From`/`To` are the dialled leg's, so they are not read as the caller's.
- `<Dial action>`: the inbound call's parameters (`CallSid`, `From`, `To`) plus
  `DialCallStatus` (completed, answered, busy, no-answer, failed, canceled), `DialCallSid`,
  `DialCallDuration`.
Telnyx TeXML (docs: developers.telnyx.com TeXML callbacks call-initiated/-ringing/-answered/
-completed, Dial, Hangup status callback attributes) sends the same names form-encoded
(`CallSid` values like `v3:…`, `ParentCallSid` on the dialled leg, `CallStatus` initiated/
ringing/in-progress/completed/busy/no-answer/failed/canceled, `CallDuration`,
`DialCallStatus`, `DialCallDuration`, `Timestamp` in ISO or RFC 2822 form), so one reader
serves both.

Vonage (docs: developer.vonage.com Voice API webhook reference, "Legs and Conversations",
NCCO connect): the answer webhook (GET query by default, JSON body with POST) carries `to`,
`from` (digits, no `+`), `uuid` (this leg) and `conversation_uuid`. A `connect` action adds
the business leg *to the same conversation* with its own `uuid`, so `conversation_uuid` is
the one id shared by the answer webhook and both legs' events: it is the call id. Events
carry `status` (started, ringing, answered, completed, busy, cancelled, unanswered, timeout,
rejected, failed), `direction` (inbound: the caller's leg; outbound: the leg we dialled),
`duration` (seconds) on completed and an ISO `timestamp`. Vonage answers the inbound leg
itself before fetching the NCCO, so the inbound leg's `answered` and `completed` say nothing
about the business line; only the dialled leg's events do.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from firstmark.domain.calls import CallEvent
from firstmark.domain.phones import loose_e164
from firstmark.errors import InvalidField

MAX_ID = 128
MAX_SKEW_S = 86_400.0  # a provider timestamp further than this from our clock is not trusted

# CallStatus of a Twilio/TeXML call leg → our status.
LEG_STATUS = {
    "queued": "ringing",
    "initiated": "ringing",
    "ringing": "ringing",
    "in-progress": "answered",
    "answered": "answered",
    "completed": "completed",
    "busy": "busy",
    "no-answer": "no-answer",
    "failed": "failed",
    "canceled": "canceled",
}
# DialCallStatus: the dial is over, so "answered" (a conference leg that picked up) is done too.
DIAL_STATUS = {**LEG_STATUS, "answered": "completed", "in-progress": "completed"}
# Vonage statuses of the leg we dialled.
VONAGE_STATUS = {
    "started": "ringing",
    "ringing": "ringing",
    "answered": "answered",
    "completed": "completed",
    "busy": "busy",
    "timeout": "no-answer",
    "unanswered": "no-answer",
    "cancelled": "canceled",
    "rejected": "failed",
    "failed": "failed",
}


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, list | tuple):  # a repeated query parameter: the first one
        value = value[0] if value else None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _required(data: Mapping[str, Any], *names: str) -> str:
    """The first of `names` present; missing → InvalidField naming the first."""
    for name in names:
        text = _text(data, name)
        if text is not None:
            if len(text) > MAX_ID:
                raise InvalidField(
                    name, f"{name} is longer than {MAX_ID} characters", code="too_long"
                )
            return text
    raise InvalidField(names[0], f"the webhook has no {names[0]}", code="required")


def _status(data: Mapping[str, Any], name: str, table: Mapping[str, str]) -> str:
    raw = _required(data, name)
    status = table.get(raw.lower())
    if status is None:
        raise InvalidField(name, f"{name} {raw!r} is not a call status we know")
    return status


def _seconds(data: Mapping[str, Any], name: str) -> int | None:
    text = _text(data, name)
    if text is None:
        return None
    try:
        value = int(float(text))
    except ValueError:
        raise InvalidField(name, f"{name} must be a number of seconds") from None
    if value < 0:
        raise InvalidField(name, f"{name} must not be negative")
    return value


def _number(data: Mapping[str, Any], *names: str) -> str | None:
    text = next((t for t in (_text(data, n) for n in names) if t is not None), None)
    return loose_e164(text) if text else None


def _tracking_number(data: Mapping[str, Any], *names: str) -> str:
    """The number called: required, and it must be a phone number."""
    text = _required(data, *names)
    number = loose_e164(text)
    if number is None:
        raise InvalidField(names[0], f"{names[0]} is not a phone number")
    return number


def _when(data: Mapping[str, Any], name: str, now: float) -> float:
    """The provider's timestamp (ISO 8601 or RFC 2822) when present and sane, else `now`."""
    text = _text(data, name)
    if text is None:
        return now
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        return now
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    ts = parsed.timestamp()
    return ts if abs(ts - now) <= MAX_SKEW_S else now


# --- Twilio and Telnyx TeXML ---------------------------------------------------------------


def texml_incoming(provider: str, params: Mapping[str, Any], now: float) -> CallEvent:
    """The webhook of a new inbound call ("A call comes in" / the TeXML Voice URL)."""
    return CallEvent(
        provider=provider,
        call_id=_required(params, "CallSid"),
        ts=now,
        status="ringing",
        to=_tracking_number(params, "To", "Called"),
        caller=_number(params, "From", "Caller"),
    )


def texml_status(provider: str, params: Mapping[str, Any], now: float) -> CallEvent:
    """A status callback. From `<Number statusCallback>` it describes the dialled leg and
    `ParentCallSid` names the inbound call; without `ParentCallSid` it is the inbound call's
    own progress (a number-level status URL), and its numbers are the caller's."""
    parent = _text(params, "ParentCallSid")
    status = _status(params, "CallStatus", LEG_STATUS)
    duration = _seconds(params, "CallDuration") if status == "completed" else None
    if parent is not None:
        if len(parent) > MAX_ID:
            raise InvalidField("ParentCallSid", f"ParentCallSid is longer than {MAX_ID}")
        return CallEvent(
            provider=provider,
            call_id=parent,
            ts=_when(params, "Timestamp", now),
            status=status,
            duration_s=duration,
        )
    # The inbound leg's own progress says nothing of the business line: it is "in-progress"
    # once our reply runs and "completed" when anyone hangs up, answered or not, and its
    # duration counts ringing too. Only its endings before an answer are kept.
    return CallEvent(
        provider=provider,
        call_id=_required(params, "CallSid"),
        ts=_when(params, "Timestamp", now),
        status=status if status in ("busy", "no-answer", "failed", "canceled") else "ringing",
        to=_number(params, "To", "Called"),
        caller=_number(params, "From", "Caller"),
    )


def texml_dial(provider: str, params: Mapping[str, Any], now: float) -> CallEvent:
    """The `<Dial action>` request: the forward's outcome, on the inbound call's id."""
    status = _status(params, "DialCallStatus", DIAL_STATUS)
    return CallEvent(
        provider=provider,
        call_id=_required(params, "CallSid"),
        ts=_when(params, "Timestamp", now),
        status=status,
        to=_number(params, "To", "Called"),
        caller=_number(params, "From", "Caller"),
        duration_s=_seconds(params, "DialCallDuration") if status == "completed" else None,
    )


def twilio_incoming(params: Mapping[str, Any], now: float) -> CallEvent:
    return texml_incoming("twilio", params, now)


def twilio_status(params: Mapping[str, Any], now: float) -> CallEvent:
    return texml_status("twilio", params, now)


def twilio_dial(params: Mapping[str, Any], now: float) -> CallEvent:
    return texml_dial("twilio", params, now)


def telnyx_incoming(params: Mapping[str, Any], now: float) -> CallEvent:
    return texml_incoming("telnyx", params, now)


def telnyx_status(params: Mapping[str, Any], now: float) -> CallEvent:
    return texml_status("telnyx", params, now)


def telnyx_dial(params: Mapping[str, Any], now: float) -> CallEvent:
    return texml_dial("telnyx", params, now)


# --- Vonage -----------------------------------------------------------------------------


def vonage_answer(data: Mapping[str, Any], now: float) -> CallEvent:
    """The answer webhook (query parameters of a GET, or the JSON body of a POST)."""
    return CallEvent(
        provider="vonage",
        call_id=_required(data, "conversation_uuid"),
        ts=now,
        status="ringing",
        to=_tracking_number(data, "to"),
        caller=_number(data, "from"),
    )


def vonage_event(data: Mapping[str, Any], now: float) -> CallEvent | None:
    """An event webhook, or None for one that says nothing about the call: events without a
    status (record, input, transfer), statuses we do not track (human/machine, disconnected),
    and the inbound leg's answer and completion, which Vonage reports whatever the business
    line did."""
    raw = _text(data, "status")
    if raw is None:
        return None
    status = VONAGE_STATUS.get(raw.lower())
    if status is None:
        return None
    inbound = (_text(data, "direction") or "").lower() == "inbound"
    if inbound and status == "completed":
        return None
    if inbound and status == "answered":
        status = "ringing"
    duration = _seconds(data, "duration") if status == "completed" else None
    return CallEvent(
        provider="vonage",
        call_id=_required(data, "conversation_uuid"),
        ts=_when(data, "timestamp", now),
        status=status,
        to=_number(data, "to") if inbound else None,
        caller=_number(data, "from") if inbound else None,
        duration_s=duration,
    )
