"""The details each platform is strict about: one click id for Google, the same transaction
id on both Google paths, GA4's own client and session, Meta's action sources, Reddit's email
and test id, exact money, the identifiers a platform needs, and who is calling."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.userdata import hash_user_data
from firstmark.forward import outbox
from firstmark.forward.adapters import ADAPTERS, ga4, google_ads, linkedin, meta, microsoft
from firstmark.forward.adapters.base import (
    USER_AGENT,
    Outgoing,
    Target,
    decimal_text,
    max_age,
    minor_amount,
    request_id,
    unsendable,
)
from firstmark.forward.probe import HAS_TEST_MODE

TS = 1_764_072_000.0  # 2025-11-25T12:00:00Z, a Tuesday
CREDS = {
    "pixel_id": "px", "access_token": "tok", "operating_account_id": "123", "measurement_id": "G-1",
    "api_secret": "s", "pixel_code": "C1", "tag_id": "9", "ad_account_id": "549",
}  # fmt: skip


def item(
    event_name: str = "Purchase",
    *,
    click_ids: dict[str, str] | None = None,
    user: dict[str, str] | None = None,
    consent: Consent | None = None,
    value: float | None = 120.5,
    currency: str | None = "EUR",
    order_id: str | None = "O-1",
    event_id: str = "ev-1",
    source: str = "server",
    ip: str | None = "203.0.113.9",
    ua: str | None = "Mozilla/5.0",
    url: str | None = "https://shop.example/done",
) -> Outgoing:
    conv = Conversion(
        event_id=event_id, goal_id=1, goal="purchase", ts=TS, source=source,
        consent=consent or Consent(analytics=True, ad_user_data=True, ad_storage=True),
        value=value, currency=currency, order_id=order_id, visitor_id="v-1",
        user_data=hash_user_data(user if user is not None else {"email": "a@b.co"}), id=3,
    )  # fmt: skip
    return Outgoing(1, conv, event_name, click_ids or {}, ip, ua, url)


def target(platform: str, **kw: Any) -> Target:
    return Target(platform=platform, credentials=CREDS, **kw)


def sent(request: httpx.Request) -> Any:
    return json.loads(request.content)


# --- every platform -------------------------------------------------------------------------


@pytest.mark.parametrize("platform", sorted(ADAPTERS))
def test_every_request_says_who_sends_it(platform: str) -> None:
    request = ADAPTERS[platform].build([item()], target(platform), TS)
    assert request.headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("firstmark/")


def test_every_window_keeps_an_hour_in_hand() -> None:
    week = 7 * 86400
    assert outbox.too_old(TS - week + 1800, TS, meta.MAX_AGE_S)  # inside 7 days, inside the hour
    assert not outbox.too_old(TS - week + 3601, TS, meta.MAX_AGE_S)
    assert ADAPTERS["tiktok"].MAX_AGE_S == 28 * 86400


# --- Google ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clicks", "expected"),
    [
        ({"gclid": "G", "gbraid": "B", "wbraid": "W"}, {"gclid": "G"}),
        ({"gbraid": "B", "wbraid": "W"}, {"gbraid": "B"}),
        ({"wbraid": "W"}, {"wbraid": "W"}),
    ],
)
def test_google_sends_one_click_id(clicks: dict[str, str], expected: dict[str, str]) -> None:
    [event] = sent(google_ads.build([item(click_ids=clicks)], target("google_ads"), TS))["events"]
    assert event["adIdentifiers"] == expected
    legacy = target("google_ads", options={"api": "legacy"})
    [one] = sent(google_ads.build([item(click_ids=clicks)], legacy, TS))["conversions"]
    assert {k: one[k] for k in ("gclid", "gbraid", "wbraid") if k in one} == expected
    # Google takes no user identifiers beside a braid on the legacy path.
    assert ("userIdentifiers" in one) is ("gclid" in expected)


@pytest.mark.parametrize(("order_id", "expected"), [("O-1", "O-1"), (None, "ev-1")])
def test_google_transaction_id_is_the_same_on_both_paths(
    order_id: str | None, expected: str
) -> None:
    one = item(order_id=order_id)
    [event] = sent(google_ads.build([one], target("google_ads"), TS))["events"]
    legacy = target("google_ads", options={"api": "legacy"})
    [conversion] = sent(google_ads.build([one], legacy, TS))["conversions"]
    assert event["transactionId"] == conversion["orderId"] == expected


# --- GA4 ------------------------------------------------------------------------------------


def test_ga4_uses_gas_own_client_and_session() -> None:
    clicks = {"ga_client_id": "1234567890.1764000000", "ga_session_id": "1764071000"}
    payload = sent(ga4.build([item(click_ids=clicks)], target("ga4"), TS))
    assert payload["client_id"] == "1234567890.1764000000"
    params = payload["events"][0]["params"]
    assert params["session_id"] == 1764071000 and params["engagement_time_msec"] == 1
    # Without GA's cookie, our visitor id; no user_id without an external id.
    plain = sent(ga4.build([item()], target("ga4"), TS))
    assert plain["client_id"] == "v-1" and "user_id" not in plain


def test_ga4_never_shares_a_request_between_consents_or_users() -> None:
    granted = item()
    denied = item(consent=Consent(analytics=True, ad_user_data=True, ad_personalization=True))
    other_user = item(user={"email": "c@d.co"})
    keys = {ga4.batch_key(i) for i in (granted, denied, other_user)}
    assert len(keys) == 3
    assert ga4.batch_key(granted) == ga4.batch_key(item())


def test_ga4_ads_export_window_is_two_business_days() -> None:
    friday_noon = datetime(2025, 11, 28, 12, tzinfo=UTC).timestamp()
    tuesday_noon = datetime(2025, 11, 25, 12, tzinfo=UTC).timestamp()
    assert max_age(ga4, {}, friday_noon) == 72 * 3600
    # Tuesday noon: up to the end of Thursday.
    assert max_age(ga4, {"ads_export": True}, tuesday_noon) == 2.5 * 86400
    # Friday: Monday and Tuesday are the two business days, capped by GA's 72 hours.
    assert max_age(ga4, {"ads_export": True}, friday_noon) == 72 * 3600


# --- Meta -----------------------------------------------------------------------------------


def test_meta_website_events_carry_their_page_and_user_agent() -> None:
    t = target("meta")
    assert meta.action_source(item(source="web"), t) == "website"
    assert meta.action_source(item(source="web", ua=None), t) == "other"
    assert meta.action_source(item(source="web", url=None), t) == "other"
    # The configured default for backend conversions; never system_generated unless asked.
    chosen = target("meta", options={"action_source": "physical_store"})
    assert meta.action_source(item(url=None), chosen) == "physical_store"
    assert meta.action_source(item(url=None), target("meta", options={})) == "other"
    website = target("meta", options={"action_source": "website"})
    assert meta.action_source(item(url=None), website) == "other"


# --- Reddit ---------------------------------------------------------------------------------


def test_reddit_email_phone_test_id_and_value() -> None:
    t = target("reddit", test_mode=True, options={"test_id": "t2_x"})
    user = {"email": "J.Doe+ads@Example.com", "phone": "+47 912 34 567"}
    payload = sent(ADAPTERS["reddit"].build([item(user=user)], t, TS))
    assert payload["data"]["test_id"] == "t2_x"
    [event] = payload["data"]["events"]
    assert event["user"]["email"] == hashlib.sha256(b"jdoe@example.com").hexdigest()
    assert event["user"]["phone_number"] == hashlib.sha256(b"+4791234567").hexdigest()
    assert event["metadata"]["value"] == 120.5
    [visit] = sent(ADAPTERS["reddit"].build([item("PageVisit")], t, TS))["data"]["events"]
    assert visit["type"] == {"tracking_type": "CUSTOM", "custom_event_name": "PageVisit"}
    [visit] = sent(ADAPTERS["reddit"].build([item("page_visit")], t, TS))["data"]["events"]
    assert visit["type"] == {"tracking_type": "PAGE_VISIT"}
    assert "value" not in visit["metadata"] and "currency" not in visit["metadata"]


# --- Pinterest ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"), [(1234567.89, "1234567.89"), (120.5, "120.5"), (0.1, "0.1"), (3.0, "3")]
)
def test_pinterest_revenue_is_the_exact_decimal(value: float, text: str) -> None:
    assert decimal_text(value) == text
    [event] = sent(ADAPTERS["pinterest"].build([item(value=value)], target("pinterest"), TS))[
        "data"
    ]
    assert event["custom_data"]["value"] == text


def test_pinterest_postcodes_are_digits_and_an_identifier_is_needed() -> None:
    pin = ADAPTERS["pinterest"]
    digits = item(user={"email": "a@b.co", "postal_code": "94103"})
    letters = item(user={"email": "a@b.co", "postal_code": "SW1A 1AA"})
    [one] = sent(pin.build([digits], target("pinterest"), TS))["data"]
    assert one["user_data"]["zp"] == [hashlib.sha256(b"94103").hexdigest()]
    [two] = sent(pin.build([letters], target("pinterest"), TS))["data"]
    assert "zp" not in two["user_data"]
    assert unsendable(pin, item(), target("pinterest")) is None
    assert unsendable(pin, item(user={}, ip=None), target("pinterest")) is not None
    assert unsendable(pin, item(user={}), target("pinterest")) is None  # IP and user agent


# --- Snapchat -------------------------------------------------------------------------------


def test_snapchat_test_mode_validates_and_reads_each_event() -> None:
    snap = ADAPTERS["snapchat"]
    assert snap.build([item()], target("snapchat", test_mode=True), TS).url.path == (
        "/v3/px/events/validate"
    )
    assert snap.build([item()], target("snapchat"), TS).url.path == "/v3/px/events"
    assert "snapchat" in HAS_TEST_MODE
    answer = httpx.Response(
        200, json={"status": "VALID", "test_event": True, "event_logs": [
            {"event": 0, "status": "VALID"},
            {"event": 1, "status": "INVALID",
             "errors": {"codes": ["E1"], "error_msgs": ["Insufficient PII"]}}]}
    )  # fmt: skip
    outcomes = snap.classify(answer, [item(), item()])
    assert [o.status for o in outcomes] == ["sent", "dead"]
    assert "Insufficient PII" in (outcomes[1].message or "")
    whole = httpx.Response(400, json={"status": "INVALID", "reason": "Unhashed PII"})
    assert [o.status for o in snap.classify(whole, [item()])] == ["dead"]
    one = httpx.Response(400, json={"status": "INVALID", "event": 1, "reason": "bad time"})
    assert [o.status for o in snap.classify(one, [item(), item(), item()])] == [
        "retry", "dead", "retry",
    ]  # fmt: skip
    ok = httpx.Response(200, json={"status": "VALID", "reason": "ok"})
    assert [o.status for o in snap.classify(ok, [item(), item()])] == ["sent", "sent"]


# --- LinkedIn -------------------------------------------------------------------------------


def test_linkedin_skips_events_without_an_accepted_id() -> None:
    t = target("linkedin")
    assert unsendable(linkedin, item(user={"phone": "+47 912 34 567"}), t) is not None
    assert unsendable(linkedin, item(user={}, click_ids={"li_fat_id": "x"}), t) is None
    assert unsendable(linkedin, item(), t) is None


def test_linkedin_event_ids_and_minor_units() -> None:
    long_id = "x" * 80
    [element] = sent(linkedin.build([item(event_id=long_id)], target("linkedin"), TS))["elements"]
    assert element["eventId"] == hashlib.sha256(long_id.encode()).hexdigest()
    assert len(element["eventId"]) == 64
    assert linkedin.event_id("short") == "short"
    assert minor_amount(1200, "JPY") == "1200"
    assert minor_amount(120.5, "EUR") == "120.50"
    assert minor_amount(1.2345, "KWD") == "1.234"  # half-even on the decimal given
    assert minor_amount(0.125, "USD") == "0.12"  # half-even on the exact decimal
    [jpy] = sent(linkedin.build([item(value=1200, currency="JPY")], target("linkedin"), TS))[
        "elements"
    ]
    assert jpy["conversionValue"] == {"currencyCode": "JPY", "amount": "1200"}


# --- Microsoft ------------------------------------------------------------------------------


def test_microsoft_consent_msclkid_and_per_event_errors() -> None:
    good = "0f3c9a1b2d4e5f60718293a4b5c6d7e8"
    storage = item(click_ids={"msclkid": good})
    no_storage = item(click_ids={"msclkid": "not-a-click-id"}, consent=Consent(ad_user_data=True))
    events = sent(microsoft.build([storage, no_storage], target("microsoft"), TS))["data"]
    assert [e["adStorageConsent"] for e in events] == ["G", "D"]
    assert events[0]["userData"]["msclkid"] == good
    assert "msclkid" not in events[1]["userData"]
    answer = httpx.Response(
        200, json={"eventsReceived": 1, "indexedErrors": [{"index": 1, "errorMessage": "bad"}]}
    )
    assert [o.status for o in microsoft.classify(answer, [storage, no_storage])] == [
        "sent",
        "dead",
    ]
    refused = httpx.Response(
        400, json={"error": {"message": "invalid", "details": [{"index": 0, "message": "x"}]}}
    )
    assert [o.status for o in microsoft.classify(refused, [storage, no_storage])] == [
        "dead",
        "retry",
    ]


# --- TikTok ---------------------------------------------------------------------------------


def test_tiktok_order_contents_and_limited_data_use() -> None:
    t = target("tiktok", options={"limited_data_use": True})
    [event] = sent(ADAPTERS["tiktok"].build([item()], t, TS))["data"]
    assert event["limited_data_use"] is True
    props = event["properties"]
    assert props["order_id"] == "O-1" and props["content_type"] == "product"
    assert props["contents"] == [{"content_id": "O-1", "price": 120.5, "quantity": 1}]
    [plain] = sent(ADAPTERS["tiktok"].build([item()], target("tiktok"), TS))["data"]
    assert "limited_data_use" not in plain


# --- the audit's request id -----------------------------------------------------------------


def test_the_platforms_request_id_is_read() -> None:
    assert request_id(httpx.Response(200, json={"requestId": "r-1"})) == "r-1"
    assert request_id(httpx.Response(200, json={"fbtrace_id": "AbC"})) == "AbC"
    assert request_id(httpx.Response(200, headers={"x-li-uuid": "li-9"})) == "li-9"
    assert request_id(httpx.Response(200, text="ok")) is None
