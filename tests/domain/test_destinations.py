"""Destination bodies and the backend conversion fields that feed forwarding."""

from __future__ import annotations

from typing import Any

import pytest

from firstmark.domain import conversions, destinations
from firstmark.errors import InvalidField

BODY: dict[str, Any] = {
    "platform": "google_ads",
    "name": "Google",
    "credentials": {"operating_account_id": "123-456-7890", "access_token": "ya29"},
    "goals": {"purchase": "555"},
}
ADS = {"ad_user_data": "granted"}


def test_a_new_destination_and_its_defaults() -> None:
    checked = destinations.parse(BODY)
    assert checked.enabled and not checked.test_mode and checked.endpoint_base is None
    dest = destinations.build(checked, "sealed")
    assert dest.credential_fields == ("access_token", "operating_account_id")
    shown = destinations.to_json(dest)
    assert shown["credentials"] == {"access_token": "set", "operating_account_id": "set"}
    assert "ya29" not in str(shown)


def test_a_patch_keeps_what_is_left_out_and_merges_credentials() -> None:
    current = destinations.build(destinations.parse(BODY), "sealed")
    with pytest.raises(InvalidField) as refused:  # removing a required field
        destinations.parse(
            {"credentials": {"access_token": None}}, current,
            current_credentials=dict(BODY["credentials"]),
        )  # fmt: skip
    assert refused.value.field == "credentials.access_token"
    merged = destinations.parse(
        {"credentials": {"login_account_id": "999"}}, current,
        current_credentials=dict(BODY["credentials"]),
    )  # fmt: skip
    assert merged.credentials == {**BODY["credentials"], "login_account_id": "999"}
    unchanged = destinations.parse({"enabled": False}, current)
    assert unchanged.credentials is None and unchanged.goals == {"purchase": "555"}
    kept = destinations.build(unchanged, None, current)
    assert kept.credentials_sealed == "sealed" and not kept.enabled


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"options": {"api": "soap"}}, "options.api"),
        ({"name": ""}, "name"),
        ({"goals": ["purchase"]}, "goals"),
        ({"endpoint_base": "https://proxy.example/x?token=1"}, "endpoint_base"),
        ({"credentials": {"operating_account_id": 123, "access_token": "x"}},
         "credentials.operating_account_id"),
    ],
)  # fmt: skip
def test_bad_destination_fields_are_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as refused:
        destinations.parse({**BODY, **change})
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("consent", "kept"),
    [(ADS, {"gclid": "Cj0", "fbc": "fb.1.1.x"}), ({}, {})],
)
def test_backend_click_ids_are_checked_always_and_kept_only_with_ads_consent(
    consent: dict[str, str], kept: dict[str, str]
) -> None:
    checked = conversions.parse(
        {"event_id": "e1", "goal": "purchase", "consent": consent,
         "click_ids": {"gclid": "Cj0", "fbc": "fb.1.1.x"},
         "event_source_url": "https://user:pw@shop.example/thanks?email=a@b.c#top"}
    )  # fmt: skip
    assert dict(checked.click_ids) == kept
    assert checked.event_source_url == "https://shop.example/thanks"
    with pytest.raises(InvalidField) as refused:
        conversions.parse({"event_id": "e1", "goal": "p", "click_ids": {"utm_source": "x"}})
    assert refused.value.field == "click_ids.utm_source"
