"""What we answer a provider's call webhook with: forward the call, or say goodbye.

Replies are built with ElementTree / plain lists, so every value is escaped and nothing is
fetched: a reply costs microseconds, and the caller never waits on us.

TwiML (docs checked: twilio.com/docs/voice/twiml/dial, /number, /say, /hangup; compared with
the `twilio` package's VoiceResponse): `<Dial callerId timeout answerOnBridge record action>`
holding one `<Number statusCallback statusCallbackEvent statusCallbackMethod>`. `timeout` is
5 to 600 s. `answerOnBridge="true"` keeps the caller hearing ringback until the business line
answers, so the inbound leg is not answered (nor billed as talk time) before then. Recording
is `record-from-answer-dual` (caller and business on separate channels), and only after a
spoken notice.

TeXML (docs: developers.telnyx.com TeXML verbs Dial, Say, Hangup, and the TeXML callback
reference): the same verbs and nouns; `<Dial>` documents `action`, `method`, `callerId`,
`timeout` (5 to 120 s, default 30), `record` (same values as Twilio) and the `<Number>` status
callbacks, but no `answerOnBridge`, so we do not send it.

NCCO (docs: developer.vonage.com NCCO reference: connect, talk, record; "Legs and
Conversations"): a JSON list of actions. `connect` with a `phone` endpoint whose `number` is
E.164 digits without `+`, `from` one of the account's numbers (same form), `timeout` seconds
of ringing (default 60), `eventUrl` a list. A `record` action before the connect records the
whole conversation (`split: conversation`, two channels). An NCCO that ends after a `talk`
hangs up.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
STATUS_EVENTS = "initiated ringing answered completed"
RECORD = "record-from-answer-dual"
TWILIO_TIMEOUT = (5, 600)
TELNYX_TIMEOUT = (5, 120)
VONAGE_TIMEOUT = (1, 7200)


def _clamp(value: int, bounds: tuple[int, int]) -> int:
    return max(bounds[0], min(bounds[1], int(value)))


def _xml(response: ET.Element) -> str:
    return DECLARATION + ET.tostring(response, encoding="unicode")


def _say(parent: ET.Element, text: str) -> None:
    ET.SubElement(parent, "Say").text = text


def _dial(
    *,
    caller_id: str | None,
    forward_to: str,
    timeout: int,
    action_url: str,
    status_url: str,
    record: bool,
    notice: str | None,
    answer_on_bridge: bool,
) -> str:
    response = ET.Element("Response")
    if notice:
        _say(response, notice)
    attrs: dict[str, str] = {}
    if caller_id:
        attrs["callerId"] = caller_id
    attrs["timeout"] = str(timeout)
    if answer_on_bridge:
        attrs["answerOnBridge"] = "true"
    if record:
        attrs["record"] = RECORD
    attrs["action"] = action_url
    dial = ET.SubElement(response, "Dial", attrs)
    number = ET.SubElement(
        dial,
        "Number",
        {
            "statusCallback": status_url,
            "statusCallbackEvent": STATUS_EVENTS,
            "statusCallbackMethod": "POST",
        },
    )
    number.text = forward_to
    return _xml(response)


def twiml_dial(
    caller_id: str | None,
    forward_to: str,
    timeout: int,
    action_url: str,
    status_url: str,
    record: bool,
    notice: str | None,
) -> str:
    """Forward the call to `forward_to` (E.164). Twilio reports the business leg's progress
    to `status_url` and the outcome to `action_url`. `caller_id` is what the business line
    sees (None: the caller's own number). A recording notice, when given, is said first."""
    return _dial(
        caller_id=caller_id,
        forward_to=forward_to,
        timeout=_clamp(timeout, TWILIO_TIMEOUT),
        action_url=action_url,
        status_url=status_url,
        record=record,
        notice=notice,
        answer_on_bridge=True,
    )


def texml_dial(
    caller_id: str | None,
    forward_to: str,
    timeout: int,
    action_url: str,
    status_url: str,
    record: bool,
    notice: str | None,
) -> str:
    """`twiml_dial` for Telnyx TeXML: the same document without `answerOnBridge`, which
    TeXML does not document, and with Telnyx's shorter timeout range."""
    return _dial(
        caller_id=caller_id,
        forward_to=forward_to,
        timeout=_clamp(timeout, TELNYX_TIMEOUT),
        action_url=action_url,
        status_url=status_url,
        record=record,
        notice=notice,
        answer_on_bridge=False,
    )


def twiml_goodbye(message: str) -> str:
    """Say `message` and hang up: an unknown number, a closed line, anything we cannot
    forward. Never an error page: the caller hears a sentence, not silence."""
    response = ET.Element("Response")
    _say(response, message)
    ET.SubElement(response, "Hangup")
    return _xml(response)


def twiml_empty() -> str:
    """Nothing more to do: the answer to status callbacks and to a dial action whose call
    is over (an empty Response ends what is left of the call)."""
    return _xml(ET.Element("Response"))


texml_goodbye = twiml_goodbye
texml_empty = twiml_empty


def _vonage_number(e164: str) -> str:
    return e164.strip().removeprefix("+")


def ncco_connect(
    from_number: str,
    forward_to: str,
    timeout: int,
    event_url: str,
    record: bool,
    notice: str | None,
) -> list[dict[str, Any]]:
    """Forward the call to `forward_to`, showing `from_number` (one of the account's Vonage
    numbers) to the business line; the connected leg's events go to `event_url`. With
    recording on, the notice is spoken before the recording starts."""
    ncco: list[dict[str, Any]] = []
    if notice:
        ncco.append({"action": "talk", "text": notice})
    if record:
        ncco.append(
            {
                "action": "record",
                "split": "conversation",
                "channels": 2,
                "eventUrl": [event_url],
                "eventMethod": "POST",
            }
        )
    ncco.append(
        {
            "action": "connect",
            "from": _vonage_number(from_number),
            "timeout": _clamp(timeout, VONAGE_TIMEOUT),
            "eventUrl": [event_url],
            "eventMethod": "POST",
            "endpoint": [{"type": "phone", "number": _vonage_number(forward_to)}],
        }
    )
    return ncco


def ncco_goodbye(message: str) -> list[dict[str, Any]]:
    """Say `message`; with no action after it, Vonage ends the call."""
    return [{"action": "talk", "text": message}]
