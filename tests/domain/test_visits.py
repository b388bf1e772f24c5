"""Visits: 30 minutes of inactivity, a new campaign or ad click starts a new one, the entry
decides the source and channel, bounce and duration."""

from __future__ import annotations

from dataclasses import replace

from firstmark.domain.events import Event
from firstmark.domain.visits import (
    Visit,
    advance,
    converted,
    entry_touch,
    landing_of,
    visit_key,
)

T0 = 1_750_000_000.0


def ev(ts: float, path: str = "/", kind: str = "pageview", **fields: object) -> Event:
    base = Event(site_id=1, ts=ts, kind=kind, name=kind, path=path, visitor_day_hash="h" * 24,
                 consent="none", country="DE", device_type="desktop")  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


def walk(events: list[Event], click_ids: list[tuple[str, ...]] | None = None) -> list[Visit]:
    """Every visit the events make, in order of their start."""
    visit: Visit | None = None
    made: dict[float, Visit] = {}
    for i, event in enumerate(events):
        kinds = (click_ids or [()] * len(events))[i]
        landing = landing_of(event, kinds, own_hosts=["shop.example"])
        visit, _ = advance(visit, event, landing, key=visit_key(event), browser="Chrome",
                           os="Windows")  # fmt: skip
        made[visit.started] = visit
    return list(made.values())


def test_pageviews_within_30_minutes_are_one_visit() -> None:
    [visit] = walk([ev(T0, "/a", referrer_host="news.example"), ev(T0 + 600, "/b"),
                    ev(T0 + 1200, "/signup", kind="event"), ev(T0 + 2900, "/c")])  # fmt: skip
    assert (visit.entry_path, visit.exit_path, visit.pageviews, visit.events) == ("/a", "/c", 3, 1)
    assert visit.duration_s == 2900 and not visit.bounce
    assert (visit.source, visit.medium, visit.channel) == ("news.example", "referral", "Referral")
    assert (visit.browser, visit.os, visit.country, visit.device_type) == (
        "Chrome", "Windows", "DE", "desktop",
    )  # fmt: skip


def test_thirty_minutes_of_silence_start_a_new_visit() -> None:
    first, second = walk([ev(T0), ev(T0 + 1801, "/again")])
    assert first.bounce and first.duration_s == 0 and first.channel == "Direct"
    assert second.entry_path == "/again" and second.started == T0 + 1801


def test_a_new_campaign_or_click_id_starts_a_new_visit_but_a_reload_does_not() -> None:
    tagged = {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring"}
    visits = walk(
        [ev(T0, **tagged), ev(T0 + 10, **tagged), ev(T0 + 20, "/x"),  # a reload, a page
         ev(T0 + 30, utm_source="google", utm_medium="cpc"),  # another campaign
         ev(T0 + 40), ev(T0 + 50)],  # then an ad click
        [(), (), (), (), (), ("gclid",)],
    )  # fmt: skip
    assert [(v.source, v.medium, v.channel, v.pageviews) for v in visits] == [
        ("newsletter", "email", "Email", 3),
        ("google", "cpc", "Paid Search", 2),
        ("google", "cpc", "Paid Search", 1),
    ]
    assert visits[2].click_ids == "gclid"


def test_the_own_host_and_payment_pages_never_take_the_credit() -> None:
    [visit] = walk([ev(T0, referrer_host="chatgpt.com"),
                    ev(T0 + 60, "/paid", referrer_host="checkout.stripe.com"),
                    ev(T0 + 90, "/thanks", referrer_host="shop.example")])  # fmt: skip
    assert (visit.channel, visit.source, visit.pageviews) == ("AI Assistants", "chatgpt.com", 3)


def test_keys_sessions_under_consent_else_the_day_hash() -> None:
    assert visit_key(ev(T0)) == "h:" + "h" * 24
    assert visit_key(ev(T0, session_id="sess-12345678")) == "s:sess-12345678"


def test_entry_touches_only_for_consented_humans() -> None:
    [visit] = walk([ev(T0, referrer_host="perplexity.ai", visitor_id="visitor-1234")])
    touch = entry_touch(visit, click_ids={})
    assert touch is not None and not touch.direct
    assert (touch.utm_source, touch.utm_medium, touch.visitor_id) == (
        "perplexity.ai", "referral", "visitor-1234",
    )  # fmt: skip
    [direct] = walk([ev(T0, visitor_id="visitor-1234")])
    found = entry_touch(direct, click_ids={})
    assert found is not None and found.direct
    [anonymous] = walk([ev(T0, referrer_host="perplexity.ai")])
    assert entry_touch(anonymous, click_ids={}) is None
    assert entry_touch(replace(visit, is_bot=True), click_ids={}) is None


def test_conversions_count_on_the_visit() -> None:
    [visit] = walk([ev(T0)])
    twice = converted(converted(visit, 10.0), None)
    assert (twice.conversions, twice.revenue, twice.converted) == (2, 10.0, True)
