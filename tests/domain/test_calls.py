"""Calls: matched to a lease or a static binding, merged from webhooks in any order, and
turned into a conversion only when long enough, with the consent of the page's visitor."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain import calls
from firstmark.domain.calls import FINAL, STATUSES, Call, CallEvent, Lease
from firstmark.domain.consent import Consent
from firstmark.domain.goals import Goal
from firstmark.domain.numbers import TrackingNumber
from firstmark.domain.phones import hash_key

KEY = hash_key("test-secret")
T0 = 1_790_000_000.0
STATIC = TrackingNumber("+14155550123", "twilio", "+14155550199", link_id=4, id=1)
POOLED = TrackingNumber("+14155550124", "twilio", "+14155550199", pool="web", id=2)
ADS = Consent(analytics=True, ad_storage=True, ad_user_data=True)
GOAL = Goal(name="call", id=9, default_value=25.0, currency="EUR")


def event(status: str, ts: float = T0, **kw: object) -> CallEvent:
    fields: dict[str, object] = {"caller": "+14155559876", "to": "+14155550123", **kw}
    return CallEvent("twilio", "CA1", ts, status, **fields)  # type: ignore[arg-type]


def lease(consent: Consent = ADS) -> Lease:
    return Lease(
        id="lease-1", pool="web", started=T0 - 60, expires=T0 + 1740, consent=consent,
        number_id=2, e164="+14155550124", site_id=3, visitor_id="visitor-123",
        utm_source="google", utm_medium="cpc", utm_campaign="spring",
        click_ids={"gclid": "Cj0KCQ"},
    )  # fmt: skip


def test_a_static_call_takes_its_links_campaign() -> None:
    link = {"campaign": "fair", "utm_source": "print", "utm_medium": "poster",
            "utm_campaign": "autumn", "utm_content": "stand-a"}  # fmt: skip
    call = calls.new_call(event("ringing"), STATIC, lease=None, link=link, hash_key=KEY)
    assert call.channel == "static" and call.link_id == 4 and call.campaign == "fair"
    assert call.utm_content == "stand-a" and call.status == "ringing"
    assert call.caller_last2 == "76" and call.caller_hash and "5559876" not in call.caller_hash


def test_a_pool_call_takes_the_sessions_channel() -> None:
    call = calls.new_call(event("ringing"), POOLED, lease=lease(), link=None, hash_key=KEY)
    assert call.lease_id == "lease-1" and call.channel == "paid"
    assert (call.utm_source, call.utm_medium, call.utm_campaign) == ("google", "cpc", "spring")


def test_an_anonymous_caller_has_no_hash() -> None:
    anonymous = event("ringing", caller=None)
    call = calls.new_call(anonymous, STATIC, lease=None, link=None, hash_key=KEY)
    assert call.caller_hash is None and call.caller_last2 is None


def test_events_in_any_order_give_the_same_call() -> None:
    start = calls.new_call(event("ringing"), STATIC, lease=None, link=None, hash_key=KEY)
    answered = event("answered", T0 + 10)
    completed = event("completed", T0 + 85, duration_s=75)
    forward = calls.merge(calls.merge(start, answered), completed)
    backward = calls.merge(calls.merge(start, completed), answered)
    assert forward == backward
    assert forward.status == "completed" and forward.duration_s == 75
    assert forward.answered == T0 + 10 and forward.ended == T0 + 85


def test_a_duration_alone_dates_the_answer() -> None:
    start = calls.new_call(event("ringing"), STATIC, lease=None, link=None, hash_key=KEY)
    done = calls.merge(start, event("completed", T0 + 90, duration_s=80))
    assert done.answered == T0 + 10


@given(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=8))
def test_a_final_status_never_goes_back_and_repeats_change_nothing(seq: list[str]) -> None:
    call = Call("twilio", "CA1", 1, T0)
    for i, status in enumerate(seq):
        before = call
        call = calls.merge(call, event(status, T0 + i))
        assert calls.merge(call, event(status, T0 + i)) == call  # a retried webhook
        if before.final:
            assert call.status == before.status
    if any(s in FINAL for s in seq):
        assert call.final and call.status == next(s for s in seq if s in FINAL)


def test_only_completed_calls_long_enough_qualify() -> None:
    call = Call("twilio", "CA1", 1, T0, status="completed", duration_s=60)
    assert calls.qualifies(call, STATIC)
    assert not calls.qualifies(replace(call, duration_s=59), STATIC)
    assert not calls.qualifies(replace(call, status="no-answer"), STATIC)
    assert calls.qualifies(replace(call, duration_s=20), replace(STATIC, qualify_s=20))


def test_a_consented_pool_call_becomes_a_forwardable_conversion() -> None:
    call = calls.merge(
        calls.new_call(event("ringing"), POOLED, lease=lease(), link=None, hash_key=KEY),
        event("completed", T0 + 80, duration_s=75),
    )
    conv = calls.to_conversion(call, POOLED, GOAL, lease=lease(), caller="+14155559876")
    assert conv.source == "call" and conv.event_id == "call.twilio.CA1"
    assert conv.consent.forwarding and conv.click_ids["gclid"] == "Cj0KCQ"
    assert conv.visitor_id == "visitor-123" and conv.site_id == 3
    assert conv.value == 25.0 and conv.currency == "EUR" and conv.ts == T0 + 80
    assert set(conv.user_data) == {"ph", "ph_e164"}
    assert "4155559876" not in repr(conv.user_data)


def test_without_ads_consent_nothing_identifying_goes_along() -> None:
    analytics_only = lease(Consent(analytics=True))
    call = calls.new_call(event("ringing"), POOLED, lease=analytics_only, link=None, hash_key=KEY)
    conv = calls.to_conversion(call, POOLED, GOAL, lease=analytics_only, caller="+14155559876")
    assert not conv.consent.forwarding and conv.user_data == {} and conv.click_ids == {}
    assert conv.visitor_id == "visitor-123"
    gpc = lease(Consent(analytics=True, ad_user_data=True, gpc=True))
    conv = calls.to_conversion(call, POOLED, GOAL, lease=gpc, caller="+14155559876")
    assert conv.user_data == {} and conv.click_ids == {} and conv.visitor_id is None


def test_a_static_call_is_counted_but_never_forwarded() -> None:
    call = calls.new_call(event("ringing"), STATIC, lease=None, link=None, hash_key=KEY)
    conv = calls.to_conversion(call, STATIC, GOAL, lease=None, caller="+14155559876")
    assert conv.link_id == 4 and not conv.consent.forwarding and conv.user_data == {}


def test_json_never_shows_the_callers_number() -> None:
    call = calls.new_call(event("ringing"), STATIC, lease=None, link=None, hash_key=KEY)
    data = calls.to_json(call, STATIC)
    assert data["caller"] == "…76" and "9876" not in str(data)
