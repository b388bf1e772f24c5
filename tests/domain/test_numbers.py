"""Tracking numbers as registered: E.164, providers, bindings, loops, hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from firstmark.domain import numbers, phones
from firstmark.domain.numbers import TrackingNumber, in_hours, parse_changes, parse_new
from firstmark.errors import InvalidField

NOW = 1_790_000_000.0


def body(**kw: object) -> dict[str, object]:
    return {"number": "+14155550123", "provider": "twilio", "forward_to": "+14155550199", **kw}


def refused(data: object, field: str) -> InvalidField:
    with pytest.raises(InvalidField) as caught:
        parse_new(data, NOW)
    assert caught.value.field == field, caught.value.message
    return caught.value


def test_a_number_is_kept_in_e164_with_defaults() -> None:
    number = parse_new(body(number="+1 (415) 555-0123", label="Spring poster"), NOW)
    assert number.e164 == "+14155550123" and number.forward_to == "+14155550199"
    assert number.qualify_s == 60 and number.record is False and number.static
    assert number.goal_name == "call" and number.label == "Spring poster"


def test_national_formats_need_a_region() -> None:
    number = parse_new(body(number="020 7946 0018", forward_to="07911 123456", region="gb"), NOW)
    assert number.e164 == "+442079460018" and number.forward_to == "+447911123456"
    assert "region" in refused(body(number="020 7946 0018"), "number").message


@pytest.mark.parametrize(
    "bad", ["", "+1 415", "+999 12345", "call me", "+14155550123" * 4, 14155550123]
)
def test_malformed_numbers_are_refused(bad: object) -> None:
    refused(body(number=bad), "number")


def test_unknown_provider_and_fields_are_refused() -> None:
    assert refused(body(provider="plivo"), "provider").code == "unknown_provider"
    assert refused(body(colour="red"), "colour").code == "unknown_field"
    assert refused({"provider": "twilio", "forward_to": "+14155550199"}, "number").code == (
        "required"
    )


def test_forwarding_to_itself_is_a_loop() -> None:
    assert "loop" in refused(body(forward_to="+1 415 555 0123"), "forward_to").message
    refused(body(fallback_to="+14155550123", hours="mon-fri 09:00-17:00"), "fallback_to")


def test_a_number_is_in_a_pool_or_bound_but_not_both() -> None:
    pooled = parse_new(body(pool="website"), NOW)
    assert pooled.pool == "website" and not pooled.static
    refused(body(pool="website", campaign="spring"), "pool")
    refused(body(pool="Web Site"), "pool")
    bound = parse_new(body(link_id=7, campaign="spring"), NOW)
    assert bound.link_id == 7 and bound.campaign == "spring"
    refused(body(link_id="7"), "link_id")


@pytest.mark.parametrize(
    ("field", "value"),
    [("qualify_seconds", -1), ("qualify_seconds", 1.5), ("qualify_seconds", True),
     ("record", "yes"), ("timezone", "Mars/Olympus"), ("hours", "weekdays 9-5"),
     ("hours", "mon 17:00-09:00"), ("goal", "a goal with spaces")],
)  # fmt: skip
def test_bad_options_name_their_field(field: str, value: object) -> None:
    refused(body(**{field: value}), field)


def test_fallback_needs_hours_and_is_used_outside_them() -> None:
    refused(body(fallback_to="+14155550100"), "hours")
    number = parse_new(
        body(fallback_to="+14155550100", hours="Mon-Fri 09:00-17:00", timezone="America/New_York"),
        NOW,
    )
    assert number.hours == "mon-fri 09:00-17:00"
    new_york = ZoneInfo("America/New_York")
    tuesday_noon = datetime(2026, 11, 24, 12, 0, tzinfo=new_york).timestamp()
    tuesday_night = datetime(2026, 11, 24, 22, 0, tzinfo=new_york).timestamp()
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=new_york).timestamp()
    assert number.destination(tuesday_noon) == "+14155550199"
    assert number.destination(tuesday_night) == "+14155550100"
    assert number.destination(saturday) == "+14155550100"


def test_hours_may_wrap_the_week_and_have_several_parts() -> None:
    utc = ZoneInfo("UTC")
    hours = numbers.parse_hours("fri-mon 10:00-12:00, wed 08:00-09:30")
    assert hours is not None
    sunday = datetime(2026, 11, 29, 11, 0, tzinfo=utc).timestamp()
    wednesday = datetime(2026, 11, 25, 9, 15, tzinfo=utc).timestamp()
    tuesday = datetime(2026, 11, 24, 11, 0, tzinfo=utc).timestamp()
    assert in_hours(hours, "UTC", sunday) and in_hours(hours, "UTC", wednesday)
    assert not in_hours(hours, "UTC", tuesday)


def test_changes_touch_only_the_fields_given() -> None:
    current = parse_new(body(label="Stand A", campaign="fair"), NOW)
    changed = parse_changes(current, {"label": "Stand B", "qualify_seconds": 90})
    assert changed.label == "Stand B" and changed.qualify_s == 90
    assert changed.campaign == "fair" and changed.e164 == current.e164
    with pytest.raises(InvalidField) as caught:
        parse_changes(current, {"number": "+14155550100"})
    assert caught.value.field == "number" and caught.value.code == "read_only"
    with pytest.raises(InvalidField):
        parse_changes(current, {"forward_to": "+14155550123"})  # a loop


def test_pools_are_checked() -> None:
    pool = numbers.parse_pool("website", {"fallback": "+14155550100", "lease_minutes": 45}, NOW)
    assert pool.fallback == "+14155550100" and pool.lease_s == 2700
    with pytest.raises(InvalidField) as caught:
        numbers.parse_pool("website", {"lease_minutes": 2}, NOW)
    assert caught.value.field == "lease_minutes"
    with pytest.raises(InvalidField):
        numbers.parse_pool("Web Site", {}, NOW)


def test_json_shows_the_number_for_people_too() -> None:
    data = numbers.to_json(TrackingNumber("+14155550123", "vonage", "+14155550199", id=3))
    assert data["display"] == "+1 415-555-0123" and data["kind"] == "static"
    assert data["goal"] == "call" and data["released"] is False


def test_caller_numbers_are_only_kept_hashed_with_two_digits() -> None:
    key = phones.hash_key("server secret")
    digest = phones.caller_hash(key, "+14155550123")
    assert len(digest) == 64 and "4155550123" not in digest
    assert digest == phones.caller_hash(key, "+14155550123")
    assert digest != phones.caller_hash(phones.hash_key("other secret"), "+14155550123")
    assert phones.last_two("+14155550123") == "23"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("+14155550123", "+14155550123"), ("14155550123", "+14155550123"),
     ("anonymous", None), ("sip:alice@example.com", None), ("", None), ("+1", None)],
)  # fmt: skip
def test_provider_numbers_are_read_loosely(given: str, expected: str | None) -> None:
    assert phones.loose_e164(given) == expected
