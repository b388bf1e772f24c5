"""The customer id a backend sends with a conversion: hashed on receipt, kept only with
analytics consent."""

from __future__ import annotations

from dataclasses import replace

import pytest

from firstmark.domain import conversions
from firstmark.domain.consent import Consent
from firstmark.domain.goals import Goal
from firstmark.domain.userdata import sha256
from firstmark.errors import InvalidField

NOW = 1_767_225_600.0
GOAL = Goal("order", id=1)


def parsed(**more: object) -> conversions.ConversionInput:
    return conversions.parse({"event_id": "e-1", "goal": "order", **more}, NOW)


def test_the_clear_id_is_hashed_and_a_hash_passes_through() -> None:
    assert parsed(customer_id=" account-42 ").customer_hash == sha256("account-42")
    hashed = sha256("account-42").upper()
    assert parsed(customer_id=hashed).customer_hash == hashed.lower()
    assert parsed().customer_hash is None


@pytest.mark.parametrize("bad", [42, "", "x" * 257])
def test_a_bad_id_is_refused_by_name(bad: object) -> None:
    with pytest.raises(InvalidField) as caught:
        parsed(customer_id=bad)
    assert caught.value.field == "customer_id"


@pytest.mark.parametrize(
    ("consent", "kept"),
    [
        (Consent(analytics=True), True),
        (Consent(), False),
        (Consent(analytics=True, gpc=True), False),
    ],
)
def test_it_is_kept_only_with_analytics_consent(consent: Consent, kept: bool) -> None:
    given = replace(parsed(customer_id="account-42"), consent=consent)
    stored = conversions.from_backend(given, GOAL, link_id=None, touch=None)
    assert stored.customer_hash == (sha256("account-42") if kept else None)
