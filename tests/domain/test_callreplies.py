"""Forwarding replies: TwiML equal to what Twilio's own builder makes, TeXML, NCCO."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from twilio.twiml.voice_response import Dial, VoiceResponse

from firstmark.domain.callreplies import (
    ncco_connect,
    ncco_goodbye,
    texml_dial,
    texml_goodbye,
    twiml_dial,
    twiml_empty,
    twiml_goodbye,
)

BASE = "https://calls.example.com"
ACTION = f"{BASE}/hooks/twilio/dial?n=7&x=<1>"
STATUS = f"{BASE}/hooks/twilio/status"
NOTICE = 'This call may be recorded for "quality" & training <purposes>.'


def tree(xml: str) -> Any:
    """An XML document as nested (tag, attributes, text, children): order of attributes
    does not matter, order of elements does."""

    def walk(element: ET.Element) -> Any:
        text = (element.text or "").strip() or None
        return (element.tag, dict(element.attrib), text, [walk(c) for c in element])

    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return walk(ET.fromstring(xml.encode()))


def official(*, caller_id: str | None, record: bool, notice: str | None, timeout: int = 25) -> str:
    response = VoiceResponse()
    if notice:
        response.say(notice)
    dial = Dial(
        caller_id=caller_id,
        timeout=timeout,
        answer_on_bridge=True,
        action=ACTION,
        record="record-from-answer-dual" if record else None,
    )
    dial.number(
        "+4791234567",
        status_callback=STATUS,
        status_callback_event="initiated ringing answered completed",
        status_callback_method="POST",
    )
    response.append(dial)
    return str(response)


@pytest.mark.parametrize(
    ("record", "notice"),
    [(False, None), (True, None), (True, NOTICE), (False, NOTICE)],
)
def test_twiml_dial_matches_twilios_builder(record: bool, notice: str | None) -> None:
    ours = twiml_dial("+4722334455", "+4791234567", 25, ACTION, STATUS, record, notice)
    assert tree(ours) == tree(official(caller_id="+4722334455", record=record, notice=notice))


def test_twiml_dial_without_caller_id_lets_the_callers_number_through() -> None:
    ours = twiml_dial(None, "+4791234567", 25, ACTION, STATUS, False, None)
    assert tree(ours) == tree(official(caller_id=None, record=False, notice=None))


def test_twiml_values_are_escaped() -> None:
    ours = twiml_dial("+4722334455", "+4791234567", 25, ACTION, STATUS, True, NOTICE)
    assert "x=<1>" not in ours and "&amp;" in ours
    parsed = ET.fromstring(ours)
    say, dial = parsed.find("Say"), parsed.find("Dial")
    assert say is not None and say.text == NOTICE
    assert dial is not None and dial.get("action") == ACTION


def dial_timeout(xml: str) -> str | None:
    dial = ET.fromstring(xml).find("Dial")
    assert dial is not None
    return dial.get("timeout")


def test_twiml_timeout_kept_within_twilios_range() -> None:
    assert dial_timeout(twiml_dial(None, "+1", 1, ACTION, STATUS, False, None)) == "5"
    assert dial_timeout(twiml_dial(None, "+1", 9999, ACTION, STATUS, False, None)) == "600"


def test_twiml_goodbye_and_empty_match_twilios_builder() -> None:
    message = "Sorry, this number is not in service. Goodbye & thanks."
    expected = VoiceResponse()
    expected.say(message)
    expected.hangup()
    assert tree(twiml_goodbye(message)) == tree(str(expected))
    assert tree(twiml_empty()) == tree(str(VoiceResponse()))


def test_texml_dial_is_twiml_without_answer_on_bridge_and_with_telnyx_timeouts() -> None:
    ours = ET.fromstring(texml_dial("+4722334455", "+4791234567", 300, ACTION, STATUS, True, None))
    dial = ours.find("Dial")
    assert dial is not None
    assert dial.attrib == {
        "callerId": "+4722334455",
        "timeout": "120",
        "record": "record-from-answer-dual",
        "action": ACTION,
    }
    number = dial.find("Number")
    assert number is not None and number.text == "+4791234567"
    assert number.attrib == {
        "statusCallback": STATUS,
        "statusCallbackEvent": "initiated ringing answered completed",
        "statusCallbackMethod": "POST",
    }
    assert tree(texml_goodbye("Goodbye.")) == tree(twiml_goodbye("Goodbye."))


def test_ncco_connect_forwards_with_vonage_number_format() -> None:
    event = f"{BASE}/hooks/vonage/event"
    ncco = ncco_connect("+442079460000", "+447700900001", 30, event, False, None)
    assert ncco == [
        {
            "action": "connect",
            "from": "442079460000",
            "timeout": 30,
            "eventUrl": [event],
            "eventMethod": "POST",
            "endpoint": [{"type": "phone", "number": "447700900001"}],
        }
    ]
    json.dumps(ncco)  # what the route sends


def test_ncco_with_recording_says_the_notice_before_recording_starts() -> None:
    event = f"{BASE}/hooks/vonage/event"
    ncco = ncco_connect("+442079460000", "+447700900001", 30, event, True, NOTICE)
    assert [action["action"] for action in ncco] == ["talk", "record", "connect"]
    assert ncco[0] == {"action": "talk", "text": NOTICE}
    assert ncco[1]["eventUrl"] == [event]
    assert ncco[1]["split"] == "conversation"


def test_ncco_goodbye_talks_and_ends() -> None:
    assert ncco_goodbye("Goodbye.") == [{"action": "talk", "text": "Goodbye."}]
