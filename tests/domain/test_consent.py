"""Consent decided on the server: Consent Mode v2, TCF v2.2 strings, GPC."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain.consent import Consent, from_backend, from_page, tcf_purposes
from firstmark.errors import InvalidField


def tc_string(purposes: set[int], version: int = 2) -> str:
    """A TCF v2 core segment with these purpose consents (other fields zero)."""
    bits = f"{version:06b}" + "0" * 146
    bits += "".join("1" if p in purposes else "0" for p in range(1, 25))
    bits += "0" * (-len(bits) % 8 + 48)
    raw = int(bits, 2).to_bytes(len(bits) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@given(st.sets(st.integers(min_value=1, max_value=24)))
def test_tcf_purposes_round_trip(purposes: set[int]) -> None:
    assert tcf_purposes(tc_string(purposes) + ".YAAAAAAAAAAA") == frozenset(purposes)


@pytest.mark.parametrize(
    ("page", "tcf", "gpc", "label", "analytics", "click_ids", "forwarding"),
    [
        (None, None, False, "none", False, False, False),
        ({"analytics_storage": "granted"}, None, False, "analytics", True, False, False),
        ({"ad_storage": "granted"}, None, False, "ads", False, True, False),
        ({"analytics_storage": "granted", "ad_user_data": "granted"}, None, False, "full", True,
         True, True),
        ({"analytics_storage": "granted", "ad_user_data": "granted"}, None, True, "gpc", False,
         False, False),
        (None, tc_string({1, 9}), False, "analytics", True, False, False),
        (None, tc_string({9}), False, "none", False, False, False),  # no device access
        (None, tc_string({1, 2}), False, "none", False, False, False),  # no measurement
        ({"analytics_storage": "granted"}, tc_string({1}), False, "none", False, False, False),
        ({"analytics_storage": "denied"}, tc_string({1, 7}), False, "none", False, False, False),
        ({"functionality_storage": "granted"}, None, False, "none", False, False, False),
        ({"analytics_storage": "granted", "wait_for_update": 500, "region": ["NO"]}, None, False,
         "analytics", True, False, False),
    ],
)  # fmt: skip
def test_page_consent(
    page: dict[str, str] | None, tcf: str | None, gpc: bool, label: str, analytics: bool,
    click_ids: bool, forwarding: bool,
) -> None:  # fmt: skip
    decided = from_page(page, tcf=tcf, gpc=gpc)
    assert decided.label == label
    assert (decided.identifiers, decided.click_ids, decided.forwarding) == (
        analytics, click_ids, forwarding,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("page", "tcf", "field"),
    [
        ({"analytics_storage": "yes"}, None, "consent.analytics_storage"),
        ({"ad_storge": "granted"}, None, "consent.ad_storge"),
        ("granted", None, "consent"),
        (None, "!!!", "tcf"),
        (None, tc_string({1}, version=1), "tcf"),
    ],
)
def test_bad_consent_names_the_field(page: object, tcf: str | None, field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        from_page(page, tcf=tcf)
    assert caught.value.field == field


def test_backend_consent_and_round_trip() -> None:
    decided = from_backend({"ad_user_data": True, "ad_personalization": "granted"})
    assert decided.forwarding and decided.ad_personalization and not decided.identifiers
    assert Consent.from_json(decided.to_json()) == decided
    assert from_backend({"ad_user_data": "granted"}, gpc=True) == Consent(gpc=True)
    with pytest.raises(InvalidField):
        from_backend({"ad_storage": "granted"})  # not a backend name
