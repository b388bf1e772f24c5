"""An event becomes its stored row and, with consent, a touch: pure, without IO."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from firstmark.domain.clicks import ClickSigner
from firstmark.domain.consent import Consent
from firstmark.domain.devices import Device
from firstmark.domain.events import RawEvent, Touch, parse, to_rows
from firstmark.domain.visitors import visitor_day_hash
from firstmark.geo import Geo

T0 = 1_790_000_000.0
SALT = b"s" * 32
IP, UA = "203.0.113.9", "Mozilla/5.0 (test)"
PHONE = Device("mobile", "iOS", "Safari", False, None)
BOT = Device("bot", "Other", "Other", True, "crawler:Googlebot")
OSLO = Geo("NO", "Oslo", "Oslo")
SIGNER = ClickSigner("k")
ANALYTICS = Consent(analytics=True)
FULL = Consent(analytics=True, ad_storage=True, ad_user_data=True)


def raw(consent: Consent = ANALYTICS, ip: str = IP, **body: Any) -> RawEvent:
    fields = {"site": "k" * 16, "url": "https://shop.example/p/1?email=a@b.example", **body}
    return RawEvent(parse(fields), 3, consent, T0, ip, UA)


def rows(event: RawEvent, device: Device = PHONE, geo: Geo | None = OSLO) -> Any:
    return to_rows(event, salt=SALT, device=device, geo=geo, signer=SIGNER)


def test_a_pageview_keeps_derived_facts_only() -> None:
    event, touch = rows(
        raw(vid="visitor-1234", sid="session-1234", referrer="https://www.news.example/a?b=c")
    )
    assert (event.site_id, event.ts, event.kind, event.name, event.path) == (
        3, T0, "pageview", "pageview", "/p/1",
    )  # fmt: skip
    assert event.visitor_day_hash == visitor_day_hash(SALT, "shop.example", IP, UA)
    assert event.referrer_host == "news.example" and event.consent == "analytics"
    assert (event.country, event.device_type, event.is_bot) == ("NO", "mobile", False)
    assert (event.visitor_id, event.session_id, event.link_id) == (
        "visitor-1234", "session-1234", None,
    )  # fmt: skip
    assert touch is None  # a direct visit is no touch
    assert IP not in repr(event) and UA not in repr(event)


def test_without_an_address_there_is_no_country() -> None:
    event, _ = rows(raw(ip=""), geo=None)
    assert event.country is None


def test_a_campaign_landing_is_a_touch_with_analytics_consent_only() -> None:
    landing = {"utm_source": "News Letter", "utm_medium": "email", "utm_campaign": "Spring"}
    event, touch = rows(raw(vid="visitor-1234", landing=landing))
    assert (event.utm_source, event.utm_medium, event.utm_campaign) == (
        "news-letter", "email", "spring",
    )  # fmt: skip
    assert touch == Touch(
        T0, 3, "visitor-1234", utm_source="news-letter", utm_medium="email",
        utm_campaign="spring",
    )  # fmt: skip
    for denied in (Consent(), Consent(analytics=True, gpc=True)):
        event, touch = rows(raw(denied, vid="visitor-1234", landing=landing))
        assert touch is None and event.visitor_id is None
        assert event.utm_source == "news-letter"  # the campaign is no identifier
    assert rows(raw(Consent(analytics=True, gpc=True)))[0].consent == "gpc"


def test_a_click_token_counts_only_when_it_was_issued_here() -> None:
    token = SIGNER.token(42, T0)
    event, touch = rows(raw(vid="visitor-1234", landing={"fm_click": token}))
    assert event.link_id == 42
    assert touch is not None and (touch.link_id, touch.click_token) == (42, token)
    forged = ClickSigner("other").token(42, T0)
    event, touch = rows(raw(vid="visitor-1234", landing={"fm_click": forged}))
    assert event.link_id is None and touch is None
    token_param = to_rows(
        raw(vid="visitor-1234", landing={"utm_source": "x"}),
        salt=SALT, device=PHONE, geo=OSLO, signer=SIGNER, token_param="utm_source",
    )  # fmt: skip
    assert token_param[0].link_id is None  # "x" is no token


@pytest.mark.parametrize(
    ("consent", "kept"),
    [
        (ANALYTICS, False),  # click ids need ads consent
        (FULL, True),
        (replace(FULL, analytics=False), False),  # a touch needs analytics consent
        (replace(FULL, gpc=True), False),
    ],
)
def test_ad_click_ids_make_a_touch_with_ads_and_analytics_consent(
    consent: Consent, kept: bool
) -> None:
    _, touch = rows(raw(consent, vid="visitor-1234", landing={"gclid": "Cj0K", "fbclid": "IwA"}))
    if kept:
        assert touch is not None and touch.click_ids == {"gclid": "Cj0K", "fbclid": "IwA"}
        assert touch.link_id is None and touch.utm_source is None
    else:
        assert touch is None


def test_a_bot_event_is_stored_as_a_bot() -> None:
    event, _ = rows(raw(type="event", name="signup", value=5, currency="EUR"), device=BOT)
    assert event.is_bot and event.device_type == "bot"
    assert (event.kind, event.name, event.value, event.currency) == ("event", "signup", 5, "EUR")
