"""Reading `POST /e` bodies and backend conversions: only named errors, whatever arrives."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain import conversions, events
from firstmark.errors import FirstmarkError

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(sorted(events.FIELDS))
EVENT_LIKE = st.dictionaries(KEYS, JSON, max_size=8)
CONVERSION_LIKE = st.dictionaries(st.sampled_from(sorted(conversions.FIELDS)), JSON, max_size=8)


@given(st.one_of(JSON, EVENT_LIKE))
def test_any_event_body_is_read_or_refused_by_name(data: Any) -> None:
    try:
        events.parse(data)
    except FirstmarkError as exc:
        assert exc.field is not None and exc.status < 500


@given(st.one_of(JSON, CONVERSION_LIKE))
def test_any_conversion_body_is_read_or_refused_by_name(data: Any) -> None:
    try:
        conversions.parse(data, now=1.8e9)
    except FirstmarkError as exc:
        assert exc.field is not None and exc.status < 500


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("/users/jane.doe@example.com/orders", "/users/[email]/orders"),
        ("plain text", "plain text"),
        ("a@b", "a@b"),
        ("mail me: x_y+z@sub.example.co.uk, thanks", "mail me: [email], thanks"),
    ],
)
def test_emails_are_redacted(text: str, clean: str) -> None:
    assert events.redact(text) == clean


def test_path_props_and_utm_lose_emails_and_the_query() -> None:
    given_event = events.parse(
        {"site": "k", "url": "https://s.example/u/jo@x.example?e=jo@x.example#f",
         "props": {"who": "jo@x.example", "n": 1}, "landing": {"utm_content": "jo@x.example"}}
    )  # fmt: skip
    assert given_event.path == "/u/[email]"
    assert given_event.props == '{"who":"[email]","n":1}'
    assert events.utm_of(given_event.landing)["utm_content"] == "[email]"


@pytest.mark.parametrize("name", ["value", "ts"])
def test_huge_numbers_are_refused_by_name(name: str) -> None:
    with pytest.raises(FirstmarkError) as caught:
        conversions.parse({"event_id": "e", "goal": "g", "currency": "EUR", name: 10**400})
    assert caught.value.field == name
    with pytest.raises(FirstmarkError):
        events.parse({"site": "k", "url": "https://s.example/", "value": 10**400})


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("+47 912 34 567", "[phone]"),
        ("+1 (415) 555-0132", "[phone]"),
        ("0047 91234567", "[phone]"),
        ("+4791234567", "[phone]"),
        ("call 020 7946 0958 today", "call [phone] today"),
        ("555-123-4567", "[phone]"),
        ("(415) 555-0132", "[phone]"),
        ("06 12 34 56 78", "[phone]"),
        ("jane@example.com, +47 912 34 567", "[email], [phone]"),
        # Not phone numbers: order ids, dates, amounts, versions, SKUs.
        ("order 123456789", "order 123456789"),
        ("2024-01-15", "2024-01-15"),
        ("2024-01-15 10:30:00", "2024-01-15 10:30:00"),
        ("15/01/2024", "15/01/2024"),
        ("1,234,567.89", "1,234,567.89"),
        ("v1.2.3", "v1.2.3"),
        ("SKU-2024-0001", "SKU-2024-0001"),
    ],
)
def test_phone_numbers_in_props_are_redacted(text: str, clean: str) -> None:
    assert events.redact_prop(text) == clean


def test_props_lose_phone_numbers_like_emails() -> None:
    given_event = events.parse(
        {"site": "k", "url": "https://s.example/thanks",
         "props": {"phone": "+47 912 34 567", "order": "123456789", "n": 4791234567}}
    )  # fmt: skip
    assert given_event.props == '{"phone":"[phone]","order":"123456789","n":4791234567}'
