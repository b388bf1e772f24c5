"""Store contract for report sums: traffic by the links' tags and by day, conversions by the
touch they were credited to, journeys with their touches."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from firstmark.domain.attribution import Step
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.events import Touch
from firstmark.domain.goals import Goal
from firstmark.domain.hits import Hit
from firstmark.domain.links import Link
from firstmark.store.protocol import Store

DAY = 86_400
T0 = datetime(2026, 11, 20, tzinfo=UTC).timestamp()


def hit(link_id: int, ts: float, visitor: str, bot: bool = False, kind: str = "click") -> Hit:
    return Hit(
        link_id, ts, kind, visitor, "NO", None, None, "mobile", "iOS", "Safari", None, bot,
        "crawler:x" if bot else None, "nb",
    )  # fmt: skip


async def links(store: Store) -> tuple[int, int]:
    a = await store.insert_link(
        Link(destination="https://a.example/", code="a", utm_source="google", utm_medium="cpc",
             utm_campaign="spring", utm_content="ad-1")
    )  # fmt: skip
    b = await store.insert_link(
        Link(destination="https://b.example/", code="b", utm_source="newsletter",
             utm_medium="email", utm_campaign="spring")
    )  # fmt: skip
    assert a.id is not None and b.id is not None
    return a.id, b.id


async def test_traffic_by_tags_and_by_day(any_store: Store) -> None:
    a, b = await links(any_store)
    await any_store.write_hits(
        [
            hit(a, T0 + 10, "v1"), hit(a, T0 + 4000, "v1"), hit(a, T0 + 5000, "v2", kind="scan"),
            hit(a, T0 + 6000, "bot", bot=True), hit(b, T0 + DAY + 5, "v3"),
        ]
    )  # fmt: skip
    rows = await any_store.traffic_totals(("source", "content"), T0, T0 + 2 * DAY)
    by_key = {r.key: (r.hits, r.bot_hits, r.uniques, r.clicks, r.scans) for r in rows}
    assert by_key == {("google", "ad-1"): (4, 1, 2, 2, 1), ("newsletter", None): (1, 0, 1, 1, 0)}
    days = await any_store.traffic_totals(("day",), T0, T0 + 2 * DAY)
    assert sorted((r.key, r.hits) for r in days) == [
        ((int(T0 // DAY),), 4),
        ((int(T0 // DAY) + 1,), 1),
    ]
    assert await any_store.traffic_totals(("day",), T0 + 2 * DAY, T0 + 3 * DAY) == []


async def test_conversions_and_journeys(any_store: Store) -> None:
    a, b = await links(any_store)
    goal = await any_store.insert_goal(Goal(name="order", kind="macro", window_days=30))
    assert goal.id is not None
    consent = Consent.from_json({"analytics_storage": "granted"})
    await any_store.write_events(
        [],
        [
            Touch(T0 - DAY, visitor_id="visitor-1", link_id=b, utm_source="newsletter",
                  utm_medium="email"),
            Touch(T0 - 60, visitor_id="visitor-1", click_ids={"gclid": "x"}),
            Touch(T0 - 40 * DAY, visitor_id="visitor-1", utm_source="old", utm_medium="cpc"),
        ],
        [],
    )  # fmt: skip

    goal_id = goal.id  # an int: asserted above

    def conversion(event_id: str, value: float, currency: str, **more: Any) -> Conversion:
        return Conversion(
            event_id=event_id, goal_id=goal_id, ts=T0, consent=consent, source="server",
            value=value, currency=currency, **more,
        )  # fmt: skip

    await any_store.insert_conversions(
        [
            conversion("c1", 19.99, "EUR", visitor_id="visitor-1", link_id=b,
                       utm_source="newsletter", utm_medium="email"),
            conversion("c2", 5.0, "EUR", link_id=a),  # a click token names only the link
            conversion("c3", 7.5, "USD"),
        ]
    )  # fmt: skip
    totals = await any_store.conversion_totals(("source",), T0 - 1, T0 + 1)
    assert {r.key: (r.currency, r.conversions, r.revenue) for r in totals} == {
        (None,): ("USD", 1, Decimal("7.50")),
        ("google",): ("EUR", 1, Decimal("5.00")),
        ("newsletter",): ("EUR", 1, Decimal("19.99")),
    }
    journeys = {j.value: j for j in await any_store.conversion_journeys(T0 - 1, T0 + 1)}
    first = journeys[Decimal("19.99")]
    assert [s.ts for s in first.touches] == [T0 - DAY, T0 - 60]  # the 40-day-old one is out
    assert not first.touches[1].direct  # a click id alone is a channel
    assert first.touches[0] == Step(T0 - DAY, False, b, "newsletter", "email", None, None)
    assert journeys[Decimal("5.00")].credited == Step(T0, False, a, "google", "cpc", "spring")
    assert journeys[Decimal("7.50")].touches == [] and journeys[Decimal("7.50")].credited is None


async def test_stored_credits_are_summed_and_dropped_when_a_touch_arrives(
    any_store: Store,
) -> None:
    from firstmark.domain import reports

    a, b = await links(any_store)
    goal = await any_store.insert_goal(Goal(name="order", kind="macro", window_days=30))
    assert goal.id is not None
    consent = Consent.from_json({"analytics_storage": "granted"})
    await any_store.write_events(
        [], [Touch(T0 - DAY, visitor_id="visitor-1", link_id=a, utm_source="google",
                   utm_medium="cpc")], []
    )  # fmt: skip
    await any_store.insert_conversions(
        [
            Conversion(event_id="c1", goal_id=goal.id, ts=T0, consent=consent, source="server",
                       value=30.0, currency="EUR", visitor_id="visitor-1"),
            Conversion(event_id="c2", goal_id=goal.id, ts=T0, consent=consent, source="server",
                       value=7.0, currency="USD"),
        ]
    )  # fmt: skip
    fresh = await any_store.conversion_journeys(T0 - 1, T0 + 1, uncredited=True)
    assert len(fresh) == 2
    await any_store.save_credits(reports.credits_of(fresh))
    assert await any_store.conversion_journeys(T0 - 1, T0 + 1, uncredited=True) == []

    totals = await any_store.credit_totals(("source",), T0 - 1, T0 + 1, "EUR")
    by_key = {(t.key, t.model): (t.conversions, t.units) for t in totals}
    assert by_key[(("google",), "linear")] == (1.0, 3000)
    assert (("(direct)",), "linear") not in by_key  # the USD conversion is another currency

    # A touch for the same visitor, before the conversion, arrives late: it is shared again.
    await any_store.write_events(
        [], [Touch(T0 - 60, visitor_id="visitor-1", link_id=b, utm_source="newsletter",
                   utm_medium="email")], []
    )  # fmt: skip
    again = await any_store.conversion_journeys(T0 - 1, T0 + 1, uncredited=True)
    assert [len(j.touches) for j in again] == [2]
    await any_store.save_credits(reports.credits_of(again))
    totals = await any_store.credit_totals(("source",), T0 - 1, T0 + 1, "EUR")
    by_key = {(t.key, t.model): (t.conversions, t.units) for t in totals}
    assert by_key[(("google",), "linear")] == (0.5, 1500)
    assert by_key[(("newsletter",), "last_non_direct")] == (1.0, 3000)
