"""One builder for every conversion (site script, backend, call, demo): value, identifiers,
attribution and click ids by consent, pure and without IO."""

from __future__ import annotations

from typing import Any

import pytest

from firstmark.domain import conversions
from firstmark.domain.consent import Consent
from firstmark.domain.events import RawEvent, Touch, parse
from firstmark.domain.goals import Goal

T0 = 1_790_000_000.0
DAY = 86_400
GOAL = Goal("purchase", id=7, default_value=49.0, currency="EUR", window_days=30)
BARE = Goal("lead", id=8, currency="USD")
NONE = Consent()
ANALYTICS = Consent(analytics=True)
ADS = Consent(ad_storage=True)
FULL = Consent(analytics=True, ad_storage=True, ad_user_data=True)
GPC = Consent(analytics=True, ad_storage=True, ad_user_data=True, gpc=True)
SEARCH = Touch(
    T0 - DAY, 3, "visitor-1234", link_id=5, utm_source="google", utm_medium="cpc",
    utm_campaign="spring", click_ids={"fbclid": "IwA", "gclid": "Cj0K"},
)  # fmt: skip


def build(consent: Consent = FULL, goal: Goal = GOAL, **fields: Any) -> conversions.Conversion:
    given: dict[str, Any] = {"event_id": "e-1", "ts": T0, "consent": consent, "source": "server"}
    return conversions.build(goal, **{**given, **fields})


@pytest.mark.parametrize(
    ("goal", "value", "currency", "expected"),
    [
        (GOAL, None, None, (49.0, "EUR")),  # the goal's value
        (GOAL, 10.0, "NOK", (10.0, "NOK")),  # a value given wins
        (GOAL, 0.0, "NOK", (0.0, "NOK")),  # zero is a value
        (BARE, None, None, (None, None)),  # no value anywhere
        (BARE, None, "SEK", (None, "SEK")),
    ],
)
def test_the_goals_value_when_none_was_given(
    goal: Goal, value: float | None, currency: str | None, expected: tuple[Any, Any]
) -> None:
    conv = build(goal=goal, value=value, currency=currency)
    assert (conv.value, conv.currency) == expected
    assert (conv.goal_id, conv.goal) == (goal.id, goal.name)


@pytest.mark.parametrize(
    ("consent", "kept"),
    [(NONE, False), (ADS, False), (ANALYTICS, True), (FULL, True), (GPC, False)],
)
def test_visitor_id_and_click_token_only_with_analytics_consent(
    consent: Consent, kept: bool
) -> None:
    conv = build(consent, visitor_id="visitor-1234", click_token="tok")
    assert (conv.visitor_id, conv.click_token) == (
        ("visitor-1234", "tok") if kept else (None, None)
    )


def test_the_link_named_wins_and_the_channel_is_the_touchs() -> None:
    conv = build(touch=SEARCH)
    assert (conv.link_id, conv.utm_source, conv.utm_medium, conv.utm_campaign) == (
        5, "google", "cpc", "spring",
    )  # fmt: skip
    assert build(touch=SEARCH, link_id=9).link_id == 9
    assert build(link_id=9).link_id == 9
    direct = build()
    assert (direct.link_id, direct.utm_source, direct.utm_medium) == (None, None, None)


@pytest.mark.parametrize(
    ("consent", "expected"),
    [
        (NONE, {}),
        (ANALYTICS, {}),
        (GPC, {}),
        (ADS, {"gclid": "mine", "fbclid": "IwA", "fbclid_at": str(int((T0 - DAY) * 1000))}),
        (Consent(ad_user_data=True), {"gclid": "mine", "fbclid": "IwA",
                                      "fbclid_at": str(int((T0 - DAY) * 1000))}),
    ],
)  # fmt: skip
def test_click_ids_the_touchs_under_the_callers_own_with_ads_consent(
    consent: Consent, expected: dict[str, str]
) -> None:
    assert build(consent, touch=SEARCH, click_ids={"gclid": "mine"}).click_ids == expected


@pytest.mark.parametrize(("consent", "kept"), [(ADS, False), (FULL, True), (GPC, False)])
def test_hashed_user_data_only_when_it_may_be_forwarded(consent: Consent, kept: bool) -> None:
    conv = build(consent, user_data={"em": "f" * 64}, sealed_client="sealed")
    assert conv.user_data == ({"em": "f" * 64} if kept else {})
    assert conv.sealed_client == "sealed"  # sealed by the caller, only with consent


def test_the_credited_touch_is_the_last_non_direct_one_in_the_goals_window() -> None:
    direct = Touch(T0 - 60, visitor_id="visitor-1234")
    old = Touch(T0 - 31 * DAY, visitor_id="visitor-1234", utm_source="old")
    assert conversions.credited_touch([old, SEARCH, direct], T0, GOAL) == SEARCH
    assert conversions.credited_touch([old, direct], T0, GOAL) == direct
    assert conversions.credited_touch([], T0, GOAL) is None


def test_a_backend_conversion_is_built_by_the_one_builder() -> None:
    checked = conversions.parse(
        {
            "event_id": "order-1", "goal": "purchase", "ts": T0, "order_id": "o-1",
            "click_token": "tok", "visitor_id": "visitor-1234", "click_ids": {"gclid": "mine"},
            "consent": {"ad_user_data": "granted", "analytics_storage": "granted"},
            "user_data": {"email": "someone@example.com"},
        },
        now=T0,
    )  # fmt: skip
    conv = conversions.from_backend(checked, GOAL, link_id=None, touch=SEARCH, sealed_client="s")
    assert conv == build(
        checked.consent, event_id="order-1", order_id="o-1", click_token="tok",
        visitor_id="visitor-1234", touch=SEARCH, click_ids={"gclid": "mine"},
        user_data=checked.user_data, sealed_client="s",
    )  # fmt: skip
    assert conv.source == "server" and conv.value == 49.0 and conv.user_data


def event(consent: Consent, **body: Any) -> RawEvent:
    fields = {"site": "k" * 16, "url": "https://shop.example/thanks", "type": "event",
              "name": "purchase", **body}  # fmt: skip
    return RawEvent(parse(fields), 3, consent, T0, "203.0.113.9", "UA")


def test_a_site_event_is_built_by_the_one_builder() -> None:
    raw = event(FULL, vid="visitor-1234", event_id="order-9", value=12, landing={"fbclid": "Pg"})
    conv = conversions.from_event(raw, BARE, link_id=4, touch=SEARCH, sealed_client="s")
    assert conv == build(
        FULL, BARE, event_id="order-9", source="web", value=12.0, currency="USD",
        visitor_id="visitor-1234", link_id=4, touch=SEARCH, site_id=3, sealed_client="s",
        click_ids={"fbclid": "Pg", "fbclid_at": str(int(T0 * 1000))},
    )  # fmt: skip
    assert conv.click_ids["gclid"] == "Cj0K" and conv.click_ids["fbclid"] == "Pg"


def test_a_site_event_without_an_id_gets_a_new_one_and_no_identifiers_without_consent() -> None:
    first = conversions.from_event(event(NONE, vid="visitor-1234"), GOAL, link_id=None, touch=None)
    second = conversions.from_event(event(NONE), GOAL, link_id=None, touch=None)
    assert first.event_id.startswith("web-") and first.event_id != second.event_id
    assert first.visitor_id is None and first.click_ids == {}
    assert (first.value, first.currency, first.site_id) == (49.0, "EUR", 3)
