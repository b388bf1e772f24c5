"""Destination bodies, the backend conversion fields that feed forwarding, and the one consent
gate that decides which destinations get an outbox row."""

from __future__ import annotations

from typing import Any

import pytest

from firstmark.domain import conversions, destinations
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import Destination, OutboxTarget, outbox_targets
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
    # Google authenticates with a service account key, an OAuth client + refresh token or a
    # bare access token: without any, the error names the ways.
    assert refused.value.field == "credentials"
    assert "service_account_key" in refused.value.message
    assert "client_id + client_secret + refresh_token" in refused.value.message
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


def dest(dest_id: int, goals: dict[str, str], enabled: bool = True) -> Destination:
    return Destination("meta", f"d{dest_id}", "sealed", ("pixel_id",), goals, enabled=enabled,
                       id=dest_id)  # fmt: skip


MAPPED = [
    dest(3, {"purchase": "Purchase", "signup": "Lead"}),
    dest(1, {"purchase": "555"}),  # listed out of order: rows come by id
    dest(2, {"signup": "Lead"}),  # maps another goal only
    dest(4, {"purchase": "Purchase"}, enabled=False),
]


def converted(consent: Consent, goal: str = "purchase") -> Conversion:
    return Conversion("e-1", 7, 1.8e9, consent, "server", goal=goal)


@pytest.mark.parametrize(
    ("consent", "expected"),
    [
        (Consent(), []),  # none
        (Consent(analytics=True), []),  # analytics only
        (Consent(ad_storage=True), []),  # ad storage alone sends no user data
        (Consent(ad_personalization=True), []),
        (Consent(ad_user_data=True), [(1, "555"), (3, "Purchase")]),
        (Consent(True, True, True, True), [(1, "555"), (3, "Purchase")]),
        (Consent(True, True, True, True, gpc=True), []),  # GPC wins over everything
    ],
)
def test_outbox_rows_only_with_consent_to_forward(
    consent: Consent, expected: list[tuple[int, str]]
) -> None:
    assert outbox_targets(converted(consent), MAPPED) == expected


def test_outbox_rows_follow_each_destinations_goal_mapping() -> None:
    granted = Consent(ad_user_data=True)
    assert outbox_targets(converted(granted, "signup"), MAPPED) == [
        OutboxTarget(2, "Lead"), OutboxTarget(3, "Lead"),
    ]  # fmt: skip
    assert outbox_targets(converted(granted, "refund"), MAPPED) == []
    assert outbox_targets(converted(granted, ""), MAPPED) == []  # a goal without a name
    assert outbox_targets(converted(granted), []) == []
    unsaved = Destination("meta", "new", "sealed", ("pixel_id",), {"purchase": "Purchase"})
    assert outbox_targets(converted(granted), [unsaved]) == []  # no id, no row
