"""Hashing per platform, against Meta's own reference normaliser (facebook-business
`Normalize`) and the examples of Google's Data Manager API formatting guide."""

from __future__ import annotations

import hashlib
import string

import pytest
from facebook_business.adobjects.serverside.normalize import Normalize
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain.userdata import KEYS, hash_user_data
from firstmark.forward import hashing

# Our field name → Meta's short key.
META = {field: KEYS[field] for field in KEYS}


def ours(field: str, value: str) -> str:
    return hashing.hash_value("meta", field, value)


def reference(field: str, value: str) -> str:
    result = Normalize.normalize_field(META[field], value)
    assert isinstance(result, str)
    return result


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "  John.Doe@Example.COM "),
        ("email", "a+b@gmail.com"),
        ("phone", "+1 (650) 555-1212"),
        ("phone", "+47 912 34 567"),
        ("phone", "0047 91234567"),
        ("phone", "+44 20-7946-0958"),
        ("first_name", "Mary"),
        ("first_name", " Émilie "),
        ("last_name", "SMITH"),
        ("city", "New York"),
        ("city", "São Paulo"),
        ("region", "CA"),
        ("postal_code", "94025"),
        ("postal_code", "94025-1234"),
        ("postal_code", "SW1A 1AA"),
        ("country", "US"),
        ("country", " no "),
        ("email", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
    ],
)
def test_meta_hashes_match_the_reference_normaliser(field: str, value: str) -> None:
    assert ours(field, value) == reference(field, value)
    # The hashes stored on receipt are the same ones.
    assert hash_user_data({field: value})[META[field]] == reference(field, value)


@pytest.mark.parametrize(
    ("field", "value", "ours_text", "reference_text"),
    [
        # Meta's docs: names "lowercase, no punctuation"; the SDK only lowercases.
        ("first_name", "Jean-Luc", "jeanluc", "jean-luc"),
        ("last_name", "O'Brien", "obrien", "o'brien"),
        # Docs: postal codes "no spaces and no dash"; the SDK cuts at the first dash, which
        # is right for a US ZIP+4 (we do that too) but loses most of a Polish code.
        ("postal_code", "00-950", "00950", "00"),
        # The SDK lowercases every field; an external id is the advertiser's own key, kept.
        ("external_id", "ABC-123", "ABC-123", "abc-123"),
    ],
)
def test_where_we_follow_metas_docs_instead_of_the_sdk(
    field: str, value: str, ours_text: str, reference_text: str
) -> None:
    assert hashing.normalised("meta", field, value) == ours_text
    assert Normalize.normalize_field_skip_hashing(META[field], value) == reference_text
    assert ours(field, value) != reference(field, value)


@given(
    local=st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=20),
    domain=st.sampled_from(["example.com", "Gmail.com", "mail.co.uk", "x.no"]),
    pad=st.sampled_from(["", " ", "  "]),
)
def test_emails_hash_like_the_reference(local: str, domain: str, pad: str) -> None:
    email = f"{pad}{local}@{domain}{pad}"
    assert ours("email", email) == reference("email", email)


@given(
    country=st.integers(1, 999),
    rest=st.lists(st.integers(0, 9), min_size=6, max_size=11),
    sep=st.sampled_from(["", " ", "-", " (", ") "]),
    prefix=st.sampled_from(["+", "00"]),
)
def test_phones_hash_like_the_reference(
    country: int, rest: list[int], sep: str, prefix: str
) -> None:
    digits = "".join(map(str, rest))
    phone = f"{prefix}{country}{sep}{digits[:3]}{sep}{digits[3:]}"
    assert ours("phone", phone) == reference("phone", phone)


@given(st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéèåøüñß", min_size=1))
def test_plain_names_hash_like_the_reference(name: str) -> None:
    assert ours("first_name", name) == reference("first_name", name)


# Google's Data Manager API formatting guide: lowercase emails; for gmail.com and
# googlemail.com only, dots and the +suffix of the local part go; phones in E.164 with '+'.
@pytest.mark.parametrize(
    ("field", "value", "normalised"),
    [
        ("email", "  Jane.Doe@GMAIL.com ", "janedoe@gmail.com"),
        ("email", "jane.doe+promo@googlemail.com", "janedoe@googlemail.com"),
        ("email", "Jane.Doe+promo@example.com", "jane.doe+promo@example.com"),
        ("phone", "+1 800-555-0100", "+18005550100"),
        ("phone", "+44 20 7946 0958", "+442079460958"),
    ],
)
@pytest.mark.parametrize("platform", ["google_ads", "ga4"])
def test_google_normalisation_follows_the_formatting_guide(
    platform: str, field: str, value: str, normalised: str
) -> None:
    assert hashing.normalised(platform, field, value) == normalised
    expected = hashlib.sha256(normalised.encode()).hexdigest()
    assert hashing.hash_value(platform, field, value) == expected
    stored = hash_user_data({field: value})
    assert (hashing.email if field == "email" else hashing.phone)(platform, stored) == expected


@pytest.mark.parametrize(
    ("platform", "plus"),
    [("meta", False), ("pinterest", False), ("snapchat", False), ("tiktok", True),
     ("microsoft", True), ("google_ads", True)],
)  # fmt: skip
def test_each_platform_gets_its_phone_form(platform: str, plus: bool) -> None:
    stored = hash_user_data({"phone": "+47 912 34 567"})
    text = "+4791234567" if plus else "4791234567"
    assert hashing.phone(platform, stored) == hashlib.sha256(text.encode()).hexdigest()


def test_already_hashed_values_pass_through_everywhere() -> None:
    hashed = hashlib.sha256(b"someone@example.com").hexdigest()
    for platform in ("meta", "google_ads", "tiktok"):
        assert hashing.hash_value(platform, "email", hashed.upper()) == hashed
    stored = hash_user_data({"email": hashed, "phone": hashed})
    assert hashing.email("ga4", stored) == hashed and hashing.phone("tiktok", stored) == hashed
    assert hashing.meta_style("meta", stored) == {"em": [hashed], "ph": [hashed]}
