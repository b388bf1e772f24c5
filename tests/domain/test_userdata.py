"""User data normalised per the platforms' rules, then SHA-256; hashes pass through."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain.userdata import hash_user_data, normalise
from firstmark.errors import InvalidField


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("field", "value", "normal"),
    [
        ("email", "  John.Smith@Example.COM ", "john.smith@example.com"),
        ("phone", "+1 (650) 555-1212", "16505551212"),
        ("phone", "0047 912 34 567", "4791234567"),
        ("first_name", " Mary-Jane ", "maryjane"),
        ("last_name", "Ødegård", "ødegård"),
        ("city", "San Francisco", "sanfrancisco"),
        ("postal_code", "SW1A 1AA", "sw1a1aa"),
        ("country", " US ", "us"),
        ("external_id", " crm-42 ", "crm-42"),
    ],
)
def test_normalisation(field: str, value: str, normal: str) -> None:
    assert normalise(field, value) == normal


def test_hashes_and_google_variants() -> None:
    hashed = hash_user_data({"email": "J.Doe+news@googlemail.com", "phone": "+47 91234567"})
    assert hashed == {
        "em": sha("j.doe+news@googlemail.com"),
        "em_google": sha("jdoe@googlemail.com"),
        "em_canonical": sha("jdoe@googlemail.com"),
        "ph": sha("4791234567"),
        "ph_e164": sha("+4791234567"),
    }
    assert "em_google" not in hash_user_data({"email": "j.doe+x@example.com"})


def test_reddit_canonical_email_and_digit_postcodes() -> None:
    other = hash_user_data({"email": "J.Doe+x@Example.com", "postal_code": "94103-1234"})
    assert other["em_canonical"] == sha("jdoe@example.com")  # every domain, not only gmail
    assert other["zp_digits"] == other["zp"] == sha("94103")
    assert "em_canonical" not in hash_user_data({"email": "jdoe@example.com"})
    assert "zp_digits" not in hash_user_data({"postal_code": "SW1A 1AA"})


@given(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_a_sha256_passes_through(digest: str) -> None:
    assert hash_user_data({"email": digest}) == {"em": digest}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "nope"}, "user_data.email"),
        ({"phone": "91234567"}, "user_data.phone"),
        ({"phone": "+1 23"}, "user_data.phone"),
        ({"country": "USA"}, "user_data.country"),
        ({"email": 5}, "user_data.email"),
        ({"email": "a@b.c" + "x" * 300}, "user_data.email"),
        ({"dob": "1990"}, "user_data.dob"),
        (["a@b.c"], "user_data"),
    ],
)
def test_bad_user_data(data: object, field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        hash_user_data(data)
    assert caught.value.field == field
