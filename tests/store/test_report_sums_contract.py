"""Store contract for report sums: traffic by link tags, conversions by their credited channel,
journeys of touches inside each goal's window (every engine, same rows in the same order)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from firstmark.domain.attribution import Step
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.events import Touch
from firstmark.domain.goals import Goal
from firstmark.domain.hits import Hit
from firstmark.domain.links import Link
from firstmark.domain.reports import ConversionTotal, Journey, TrafficTotal
from firstmark.errors import InvalidField
from firstmark.store.protocol import Store

DAY = 20_417  # 2025-11-25, days since the epoch
T0 = DAY * 86400.0
LATE = T0 + 86399.7  # the last second of the day: still DAY, never rounded into the next
FULL = Consent(analytics=True, ad_storage=True, ad_user_data=True, ad_personalization=False)


def hit(link_id: int, ts: float, kind: str = "click", visitor: str = "v", bot: bool = False) -> Hit:
    return Hit(
        link_id, ts, kind, visitor, "NO", None, None, "mobile", "iOS", "Safari", None, bot,
        "crawler:x" if bot else None, None,
    )  # fmt: skip


async def _links(store: Store) -> tuple[int, int]:
    link = Link(
        destination="https://a.example/", code="a", utm_source="news", utm_medium="email",
        utm_campaign="spring", utm_content="hero",
    )  # fmt: skip
    tagged = await store.insert_link(link)
    bare = await store.insert_link(Link(destination="https://b.example/", code="b"))
    assert tagged.id is not None and bare.id is not None
    return tagged.id, bare.id


async def test_traffic_totals_by_link_tags_and_day(any_store: Store) -> None:
    tagged, bare = await _links(any_store)
    await any_store.write_hits(
        [
            hit(tagged, T0 + 10), hit(tagged, T0 + 20, "scan", "w"), hit(tagged, T0 + 30, bot=True),
            hit(bare, T0 + 40), hit(tagged, T0 + 86400 + 5, visitor="x"),
        ]
    )  # fmt: skip
    end = T0 + 2 * 86400
    by_source = await any_store.traffic_totals(("source",), T0, end)
    assert by_source == [
        TrafficTotal((None,), 1, 0, 1, 1, 0),  # no tag sorts first, as NULL does on SQLite
        TrafficTotal(("news",), 4, 1, 3, 2, 1),
    ]
    by_day = await any_store.traffic_totals(("day", "link"), T0, end)
    assert [(t.key, t.hits) for t in by_day] == [
        ((DAY, tagged), 3), ((DAY, bare), 1), ((DAY + 1, tagged), 1),
    ]  # fmt: skip
    assert await any_store.traffic_totals((), T0, end) == [TrafficTotal((), 5, 1, 4, 3, 1)]
    # Rollups are hourly: a window starting inside an hour counts that hour whole.
    assert await any_store.traffic_totals((), T0 + 1800, T0 + 3600) == [
        TrafficTotal((), 4, 1, 3, 2, 1)
    ]
    assert await any_store.traffic_totals(("content",), T0 + 86400 * 5, T0 + 86400 * 6) == []
    with pytest.raises(InvalidField):
        await any_store.traffic_totals(("l.id; DROP TABLE links",), T0, end)


async def test_conversion_totals_take_the_credited_channel_and_whole_days(
    any_store: Store,
) -> None:
    tagged, _ = await _links(any_store)
    goal = await any_store.insert_goal(Goal("purchase"))
    assert goal.id is not None

    def conv(event_id: str, ts: float, **fields: object) -> Conversion:
        return Conversion(event_id, goal.id, ts, FULL, "server", **fields)  # type: ignore[arg-type]

    await any_store.insert_conversions(
        [
            conv("late", LATE, value=10.25, currency="EUR", link_id=tagged),  # the link's tags
            conv("ads", T0 + 60, value=5.0, currency="EUR", utm_source="ads", utm_medium="cpc"),
            conv("free", T0 + 70),  # no value, no currency, no channel
            conv("next", T0 + 86400 + 1, value=1.5, currency="USD", utm_source="ads"),
        ]
    )
    end = T0 + 2 * 86400
    by_day = await any_store.conversion_totals(("day",), T0, end)
    assert by_day == [
        ConversionTotal((DAY,), None, 1, Decimal(0)),
        ConversionTotal((DAY,), "EUR", 2, Decimal("15.25")),
        ConversionTotal((DAY + 1,), "USD", 1, Decimal("1.50")),
    ]
    by_channel = await any_store.conversion_totals(("source", "medium"), T0, end)
    assert [(c.key, c.currency, c.conversions) for c in by_channel] == [
        ((None, None), None, 1),
        (("ads", None), "USD", 1),
        (("ads", "cpc"), "EUR", 1),
        (("news", "email"), "EUR", 1),
    ]
    # [start, end): the late one is in its day only.
    assert [c.conversions for c in await any_store.conversion_totals((), T0, LATE)] == [1, 1]
    assert await any_store.conversion_totals(("link",), LATE + 1, T0 + 86400) == []


async def test_journeys_hold_the_touches_inside_the_goal_window(any_store: Store) -> None:
    tagged, _ = await _links(any_store)
    goal = await any_store.insert_goal(Goal("signup", window_days=7))
    other = await any_store.insert_goal(Goal("lead", window_days=1))
    assert goal.id is not None and other.id is not None
    at = T0 + 3600
    touches = [
        Touch(at - 8 * 86400, visitor_id="v1", utm_source="old"),  # outside the window
        Touch(at - 3 * 86400, visitor_id="v1", link_id=tagged, utm_source="news"),
        Touch(at - 3 * 86400, click_token="tok", utm_source="ads", utm_medium="cpc"),
        Touch(at - 60, visitor_id="v1", click_token="tok"),  # direct; found both ways, once
        Touch(at + 60, visitor_id="v1", utm_source="after"),  # after the conversion
        Touch(at - 10, visitor_id="v2", click_ids={"gclid": "G"}),
    ]
    await any_store.write_events([], touches, [])
    stored = await any_store.insert_conversions(
        [
            Conversion(
                "c1", goal.id, at, FULL, "web", value=20.0, currency="EUR", visitor_id="v1",
                click_token="tok", link_id=tagged,
            ),
            Conversion("c2", other.id, at + 5, FULL, "server", visitor_id="v2"),
            Conversion("c3", other.id, at + 86400 * 3, FULL, "server", visitor_id="v1"),
        ]
    )  # fmt: skip
    ids: list[int] = []
    for saved, _ in stored:
        assert saved.id is not None
        ids.append(saved.id)
    journeys = await any_store.conversion_journeys(T0, T0 + 86400)
    assert journeys == [
        Journey(
            ids[0], at, Decimal("20.00"), "EUR", 7,
            [
                Step(at - 3 * 86400, False, tagged, "news", None, None, None),
                Step(at - 3 * 86400, False, None, "ads", "cpc", None, None),
                Step(at - 60, True, None, None, None, None, None),
            ],
            Step(at, False, tagged, "news", "email", "spring"),
        ),
        Journey(
            ids[1], at + 5, Decimal(0), None, 1,
            [Step(at - 10, False, None, None, None, None, None)],
            None,
        ),
    ]  # fmt: skip
    assert [j.conversion_id for j in await any_store.conversion_journeys(T0, T0 + 4 * 86400)] == ids
