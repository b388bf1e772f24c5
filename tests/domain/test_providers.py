"""Provider webhooks read into call events, all on the inbound call's id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firstmark.domain.calls import STATUSES, CallEvent, merge, new_call, qualifies
from firstmark.domain.numbers import TrackingNumber
from firstmark.domain.providers import (
    telnyx_dial,
    telnyx_incoming,
    telnyx_status,
    twilio_dial,
    twilio_incoming,
    twilio_status,
    vonage_answer,
    vonage_event,
)
from firstmark.errors import InvalidField

NOW = 1_760_000_000.0
PARENT = "CA0000000000000000000000000000aaaa"
CHILD = "CA0000000000000000000000000000bbbb"

INCOMING = {
    "AccountSid": "AC0000",
    "ApiVersion": "2010-04-01",
    "CallSid": PARENT,
    "CallStatus": "ringing",
    "Called": "+14155550100",
    "Caller": "+14158675310",
    "Direction": "inbound",
    "From": "+14158675310",
    "To": "+14155550100",
}


def child(status: str, **extra: str) -> dict[str, str]:
    """A <Number statusCallback>: the dialled leg, whose From/To are not the caller's."""
    return {
        "CallSid": CHILD,
        "ParentCallSid": PARENT,
        "CallStatus": status,
        "From": "+14155550100",
        "To": "+4791234567",
        "Direction": "outbound-dial",
        "CallbackSource": "call-progress-events",
        "Timestamp": "Thu, 09 Oct 2025 08:53:30 +0000",
        **extra,
    }


def test_twilio_incoming_call() -> None:
    event = twilio_incoming(INCOMING, NOW)
    assert event == CallEvent(
        provider="twilio",
        call_id=PARENT,
        ts=NOW,
        status="ringing",
        to="+14155550100",
        caller="+14158675310",
    )


def test_twilio_incoming_falls_back_to_called_and_caller() -> None:
    params = {"CallSid": PARENT, "Called": "14155550100", "Caller": "anonymous"}
    event = twilio_incoming(params, NOW)
    assert event.to == "+14155550100"
    assert event.caller is None  # an anonymous caller has no number to hash


@pytest.mark.parametrize("missing", ["CallSid", "To"])
def test_twilio_incoming_missing_field_is_named(missing: str) -> None:
    params = {k: v for k, v in INCOMING.items() if k not in (missing, "Called")}
    with pytest.raises(InvalidField) as raised:
        twilio_incoming(params, NOW)
    assert raised.value.field == missing


def test_twilio_incoming_to_must_be_a_number() -> None:
    with pytest.raises(InvalidField) as raised:
        twilio_incoming({**INCOMING, "To": "client:alice", "Called": ""}, NOW)
    assert raised.value.field == "To"


@pytest.mark.parametrize(
    ("twilio", "ours"),
    [
        ("initiated", "ringing"),
        ("ringing", "ringing"),
        ("in-progress", "answered"),
        ("completed", "completed"),
        ("busy", "busy"),
        ("no-answer", "no-answer"),
        ("failed", "failed"),
        ("canceled", "canceled"),
    ],
)
def test_twilio_child_leg_status_lands_on_the_parent_call(twilio: str, ours: str) -> None:
    event = twilio_status(child(twilio), NOW)
    assert event.call_id == PARENT
    assert event.status == ours and ours in STATUSES
    assert event.to is None and event.caller is None  # the dialled leg's numbers
    assert event.ts == datetime(2025, 10, 9, 8, 53, 30, tzinfo=UTC).timestamp()


def test_twilio_child_leg_completed_carries_its_talk_time() -> None:
    event = twilio_status(child("completed", CallDuration="75"), NOW)
    assert event.status == "completed" and event.duration_s == 75


def test_twilio_status_without_parent_is_the_inbound_legs_own() -> None:
    params = {**INCOMING, "CallStatus": "completed", "CallDuration": "80"}
    event = twilio_status(params, NOW)
    assert event.call_id == PARENT and event.caller == "+14158675310"
    # it ended, but whether the business line answered (and talked for how long) it cannot say
    assert event.status == "ringing" and event.duration_s is None
    hung_up = twilio_status({**INCOMING, "CallStatus": "canceled"}, NOW)
    assert hung_up.status == "canceled"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"CallSid": CHILD}, "CallStatus"),
        ({"CallStatus": "ringing"}, "CallSid"),
        ({"CallSid": CHILD, "CallStatus": "teleported"}, "CallStatus"),
        ({"CallSid": CHILD, "CallStatus": "completed", "CallDuration": "long"}, "CallDuration"),
    ],
)
def test_twilio_status_bad_fields_are_named(params: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidField) as raised:
        twilio_status(params, NOW)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("dial", "ours", "duration"),
    [
        ("completed", "completed", 75),
        ("answered", "completed", 75),
        ("busy", "busy", None),
        ("no-answer", "no-answer", None),
        ("failed", "failed", None),
        ("canceled", "canceled", None),
    ],
)
def test_twilio_dial_action(dial: str, ours: str, duration: int | None) -> None:
    params = {
        **INCOMING,
        "CallStatus": "in-progress",
        "DialCallStatus": dial,
        "DialCallSid": CHILD,
        "DialCallDuration": "75",
    }
    event = twilio_dial(params, NOW)
    assert (event.call_id, event.status, event.duration_s) == (PARENT, ours, duration)
    assert event.ts == NOW


def test_twilio_dial_action_without_status_is_refused() -> None:
    with pytest.raises(InvalidField) as raised:
        twilio_dial(INCOMING, NOW)
    assert raised.value.field == "DialCallStatus"


def test_twilio_webhooks_make_one_qualified_call_in_any_order() -> None:
    number = TrackingNumber(
        id=1, e164="+14155550100", provider="twilio", forward_to="+4791234567", pool="web"
    )
    events = [
        twilio_incoming(INCOMING, NOW),
        twilio_status(child("ringing", Timestamp=""), NOW + 1),
        twilio_status(child("in-progress", Timestamp=""), NOW + 5),
        twilio_status(child("completed", CallDuration="75", Timestamp=""), NOW + 80),
        twilio_dial(
            {**INCOMING, "DialCallStatus": "completed", "DialCallDuration": "75"}, NOW + 80
        ),
    ]
    for order in (events, [events[0], events[4], events[2], events[3], events[1]]):
        call = new_call(order[0], number, lease=None, link=None, hash_key=b"k")
        for event in order[1:]:
            call = merge(call, event)
        assert call.status == "completed" and call.duration_s == 75
        assert qualifies(call, number)


# --- Telnyx TeXML ---------------------------------------------------------------------------

TELNYX_PARENT = "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg"
TELNYX_CHILD = "v3:9X2vxPDFY2RHSJ1EdMS0RHRksMTg7ldNxdjWbVr9zBjbGjGsSe-aiQ"


def test_telnyx_texml_webhooks_read_like_twilios() -> None:
    incoming = {
        "AccountSid": "f5586561-8ff0-4291-a51b-c7dfe4139ff9",
        "CallSid": TELNYX_PARENT,
        "CallSidLegacy": TELNYX_PARENT,
        "ConnectionId": "1234567890",
        "From": "+35319605860",
        "To": "+13129457420",
        "CallerId": "John Doe",
    }
    event = telnyx_incoming(incoming, NOW)
    assert (event.provider, event.call_id, event.to, event.caller) == (
        "telnyx",
        TELNYX_PARENT,
        "+13129457420",
        "+35319605860",
    )
    completed = {
        "AccountSid": "f5586561-8ff0-4291-a51b-c7dfe4139ff9",
        "CallSid": TELNYX_CHILD,
        "CallStatus": "completed",
        "CallbackSource": "call-progress-events",
        "CallDuration": "45",
        "From": "+13129457420",
        "To": "+4791234567",
        "ParentCallSid": TELNYX_PARENT,
        "SequenceNumber": "3",
        "Timestamp": "2025-10-09T08:53:00Z",
    }
    event = telnyx_status(completed, NOW)
    assert (event.call_id, event.status, event.duration_s) == (TELNYX_PARENT, "completed", 45)
    assert event.ts == datetime(2025, 10, 9, 8, 53, tzinfo=UTC).timestamp()
    answered = {**completed, "CallStatus": "in-progress", "Timestamp": "2025-10-09 08:52:18.7Z"}
    assert telnyx_status(answered, NOW).status == "answered"
    dial = {**incoming, "DialCallStatus": "no-answer", "DialCallSid": TELNYX_CHILD}
    assert telnyx_dial(dial, NOW).status == "no-answer"


def test_a_timestamp_far_from_our_clock_is_not_trusted() -> None:
    event = telnyx_status(
        {"CallSid": TELNYX_CHILD, "CallStatus": "ringing", "Timestamp": "2001-01-01T00:00:00Z"},
        NOW,
    )
    assert event.ts == NOW


# --- Vonage ---------------------------------------------------------------------------------

CONVERSATION = "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab"


def test_vonage_answer_from_query_or_json() -> None:
    data = {
        "to": "442079460000",
        "from": "447700900000",
        "uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "conversation_uuid": CONVERSATION,
        "region_url": "https://api-eu-1.nexmo.com",
    }
    event = vonage_answer(data, NOW)
    assert event == CallEvent(
        provider="vonage",
        call_id=CONVERSATION,
        ts=NOW,
        status="ringing",
        to="+442079460000",
        caller="+447700900000",
    )
    query = {k: [v] for k, v in data.items()}  # parse_qs shape
    assert vonage_answer(query, NOW) == event


@pytest.mark.parametrize("missing", ["conversation_uuid", "to"])
def test_vonage_answer_missing_field_is_named(missing: str) -> None:
    data = {"to": "442079460000", "from": "447700900000", "conversation_uuid": CONVERSATION}
    del data[missing]
    with pytest.raises(InvalidField) as raised:
        vonage_answer(data, NOW)
    assert raised.value.field == missing


def leg(status: str, direction: str = "outbound", **extra: str) -> dict[str, str]:
    return {
        "from": "442079460000",
        "to": "447700900001",
        "uuid": "bbbbbbbb-bbbb-cccc-dddd-0123456789ab",
        "conversation_uuid": CONVERSATION,
        "status": status,
        "direction": direction,
        "timestamp": "2025-10-09T08:53:00.000Z",
        **extra,
    }


@pytest.mark.parametrize(
    ("vonage", "ours"),
    [
        ("started", "ringing"),
        ("ringing", "ringing"),
        ("answered", "answered"),
        ("completed", "completed"),
        ("busy", "busy"),
        ("timeout", "no-answer"),
        ("unanswered", "no-answer"),
        ("cancelled", "canceled"),
        ("rejected", "failed"),
        ("failed", "failed"),
    ],
)
def test_vonage_connected_leg_events(vonage: str, ours: str) -> None:
    event = vonage_event(leg(vonage), NOW)
    assert event is not None
    assert (event.call_id, event.status) == (CONVERSATION, ours)
    assert event.to is None and event.caller is None  # the business leg's numbers
    assert event.ts == datetime(2025, 10, 9, 8, 53, tzinfo=UTC).timestamp()


def test_vonage_connected_leg_completed_carries_duration() -> None:
    event = vonage_event(leg("completed", duration="75", price="0.0023"), NOW)
    assert event is not None and event.duration_s == 75


def test_vonage_inbound_leg_answer_and_completion_say_nothing_of_the_business_line() -> None:
    answered = vonage_event(leg("answered", "inbound"), NOW)
    assert answered is not None and answered.status == "ringing"
    assert vonage_event(leg("completed", "inbound", duration="90"), NOW) is None
    busy = vonage_event(leg("failed", "inbound"), NOW)
    assert busy is not None and busy.status == "failed"


def test_vonage_events_without_a_call_status_are_skipped() -> None:
    record = {
        "start_time": "2020-01-01T12:00:00Z",
        "recording_url": "https://api.nexmo.com/v1/files/x",
        "conversation_uuid": CONVERSATION,
    }
    assert vonage_event(record, NOW) is None
    assert vonage_event(leg("human"), NOW) is None
    assert vonage_event(leg("disconnected"), NOW) is None


def test_vonage_event_missing_conversation_is_named() -> None:
    data = leg("answered")
    del data["conversation_uuid"]
    with pytest.raises(InvalidField) as raised:
        vonage_event(data, NOW)
    assert raised.value.field == "conversation_uuid"
