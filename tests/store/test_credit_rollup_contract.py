"""Store contract for the daily rollup of attribution credits (ADR 0028): the attribution
report read from the rollup (whole days) gives what the credits themselves give, on any range,
after a late touch drops credits and after the retention purge."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any

from firstmark.config import Settings
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.events import Touch
from firstmark.domain.goals import Goal
from firstmark.domain.links import Link
from firstmark.services import credits, retention
from firstmark.services import reports as reports_service
from firstmark.store.protocol import Store

DAY = 86_400
T0 = datetime(2026, 11, 20, tzinfo=UTC).timestamp()
CONSENT = Consent.from_json({"analytics_storage": "granted"})
GROUPINGS: tuple[tuple[str, ...], ...] = (
    ("source", "medium"), ("campaign",), ("content",), ("source", "campaign", "content"), (),
)  # fmt: skip
# Whole days, ranges starting and ending inside a day, one day, a few hours of one.
RANGES = (
    (T0 - 2 * DAY, T0 + 5 * DAY), (T0 - DAY + 3600, T0 + 3 * DAY + 7200),
    (T0 + DAY, T0 + 2 * DAY), (T0 + DAY + 3600, T0 + DAY + 50_000),
)  # fmt: skip


async def seed(store: Store) -> int:
    """Touches and conversions over five days: several touches per journey, direct visits,
    a click token, three currencies, tags with and without content; the goal's id."""
    a = await store.insert_link(
        Link(destination="https://a.example/", code="a", utm_source="google", utm_medium="cpc",
             utm_campaign="spring", utm_content="ad-1")
    )  # fmt: skip
    goal = await store.insert_goal(Goal(name="order", kind="macro", window_days=30))
    assert a.id is not None and goal.id is not None
    touches, conversions = [], []
    for i in range(40):
        ts = T0 + (i % 5) * DAY + (i * 7919) % DAY  # five days, any hour
        visitor = f"visitor-{i % 13}"
        touches += [
            Touch(
                ts - 3 * DAY - i,
                visitor_id=visitor,
                link_id=a.id,
                utm_source="google",
                utm_medium="cpc",
                utm_campaign="spring",
                utm_content="ad-1",
            ),
            Touch(
                ts - DAY,
                visitor_id=visitor,
                utm_source=("newsletter", None)[i % 2],
                utm_medium="email",
                utm_campaign=f"c-{i % 3}",
            ),
            Touch(ts - 3600, visitor_id=visitor),  # direct
        ][: 1 + i % 3]
        conversions.append(
            Conversion(event_id=f"e{i}", goal_id=goal.id, ts=ts, consent=CONSENT,
                       source="server", value=10.0 + i * 1.37,
                       currency=("EUR", "USD", None)[i % 3], visitor_id=visitor)
        )  # fmt: skip
    touches.append(Touch(T0 + 2 * DAY - 50, click_token="tok-1", utm_source="bing",
                         utm_medium="cpc"))  # fmt: skip
    conversions.append(
        Conversion(event_id="tok", goal_id=goal.id, ts=T0 + 2 * DAY + 10, consent=CONSENT,
                   source="server", value=99.0, currency="EUR", click_token="tok-1")
    )  # fmt: skip
    await store.write_events([], touches, [])
    await store.insert_conversions(conversions)
    return goal.id


def summed(rows: list[Any]) -> dict[tuple[Any, ...], tuple[float, int]]:
    return {(*r.key, r.model): (round(r.conversions, 9), r.units) for r in rows}


async def assert_rollup_matches(store: Store) -> int:
    """The report from the rollup equals the report from the credits, for every grouping,
    range and currency; the credit rows compared."""
    compared = 0
    for dims in GROUPINGS:
        for start, end in RANGES:
            for currency in ("EUR", "USD", None):
                rolled = await store.credit_totals(dims, start, end, currency)
                raw = await store.credit_totals(dims, start, end, currency, rolled=False)
                assert summed(rolled) == summed(raw), (dims, start - T0, end - T0, currency)
                compared += len(raw)
    return compared


async def test_rollup_gives_what_the_credits_give(any_store: Store) -> None:
    await seed(any_store)
    assert await any_store.credits_pending()
    assert await credits.credit_new(any_store, batch=7) == 41  # several batches
    assert not await any_store.credits_pending()
    assert await assert_rollup_matches(any_store) > 100
    # Grouped by source and medium over the five days, every model adds up to the 41.
    totals = await any_store.credit_totals(("source", "medium"), T0, T0 + 5 * DAY, "EUR")
    linear = sum(t.conversions for t in totals if t.model == "linear")
    assert round(linear, 9) == 41 - 13  # the USD ones left out


async def test_batches_in_time_order_share_out_each_conversion_once(any_store: Store) -> None:
    """The job goes through the conversions by time, then id: nine at one instant, with ids
    out of time order, straddle batches of four and are each shared out once."""
    goal = await seed(any_store)
    at = T0 + DAY + 5
    await any_store.write_events(
        [], [Touch(at - 600, visitor_id=f"same-{i}", utm_source="ads") for i in range(9)], []
    )
    same = [
        Conversion(event_id=f"same-{i}", goal_id=goal, ts=at, consent=CONSENT, source="server",
                   value=5.0, currency="EUR", visitor_id=f"same-{i}")
        for i in range(9)
    ]  # fmt: skip
    await any_store.insert_conversions(same)
    assert await credits.credit_new(any_store, batch=4) == 50
    assert not await any_store.credits_pending()
    assert await credits.credit_new(any_store, batch=4) == 0
    totals = await any_store.credit_totals(("source",), T0, T0 + 5 * DAY, "EUR")
    assert round(sum(t.conversions for t in totals if t.model == "linear"), 9) == 50 - 13
    ads = [t for t in totals if t.key == ("ads",)]
    assert {t.model: t.conversions for t in ads}["first_touch"] == 9
    await assert_rollup_matches(any_store)


async def test_report_waits_for_the_batch_the_job_is_on(any_store: Store) -> None:
    """A report during the job shares out what is still waiting after the job's batch, not
    beside it: the same answer as once the job is done."""
    await seed(any_store)
    window = reports_service.Window.of({"from": "2026-11-19", "to": "2026-11-26"})
    turn = credits.sharing(any_store)
    await turn.acquire()
    report = asyncio.create_task(
        reports_service.comparison(any_store, ("channel",), window, "EUR", 7.0)
    )
    await asyncio.sleep(0.05)
    assert not report.done()  # waiting for its turn
    turn.release()
    during, _, _ = await report
    assert not await any_store.credits_pending()
    assert await credits.credit_new(any_store) == 0
    after, _, _ = await reports_service.comparison(any_store, ("channel",), window, "EUR", 7.0)
    assert during == after


async def test_rollup_follows_a_late_touch(any_store: Store) -> None:
    await seed(any_store)
    await credits.credit_new(any_store)
    before = summed(await any_store.credit_totals(("source",), T0, T0 + 5 * DAY, "EUR"))
    # visitor-0 converts on days 0 and 3 (i = 0, 13, 26, 39); a touch from a new source
    # arrives for it, older than those conversions: their credits are dropped.
    await any_store.write_events(
        [], [Touch(T0 - 60, visitor_id="visitor-0", utm_source="late", utm_medium="cpc")], []
    )
    assert await any_store.credits_pending()
    await assert_rollup_matches(any_store)  # the dropped credits are gone from both
    dropped = summed(await any_store.credit_totals(("source",), T0, T0 + 5 * DAY, "EUR"))
    assert dropped != before and ("late", "linear") not in dropped
    assert await credits.credit_new(any_store) == 4
    await assert_rollup_matches(any_store)
    after = summed(await any_store.credit_totals(("source",), T0, T0 + 5 * DAY, "EUR"))
    assert after[("late", "linear")][0] > 0


async def test_rollup_follows_the_retention_purge(any_store: Store, settings: Settings) -> None:
    await seed(any_store)
    await credits.credit_new(any_store)
    whole = summed(await any_store.credit_totals((), T0 - DAY, T0 + 6 * DAY, "EUR"))
    # Credits kept 10 days, purged 12.5 days after T0: the cutoff falls inside day 2.
    keep = dataclasses.replace(settings, retention_credits_days=10)
    await retention.purge(any_store, keep, now=T0 + 12.5 * DAY)
    await any_store.sum_credit_days()
    await assert_rollup_matches(any_store)
    left = summed(await any_store.credit_totals((), T0 - DAY, T0 + 6 * DAY, "EUR"))
    assert 0 < left[("linear",)][0] < whole[("linear",)][0]
    assert await any_store.credit_totals((), T0 - DAY, T0 + 2 * DAY, "EUR") == []


async def test_report_after_crediting_in_the_background(any_store: Store) -> None:
    """The report finds the crediting job's work done: the same answer as a report that
    shares out the conversions itself."""
    await seed(any_store)
    window = reports_service.Window.of({"from": "2026-11-19", "to": "2026-11-26"})
    await credits.credit_new(any_store)
    assert not await any_store.credits_pending()
    entries, currency, _ = await reports_service.comparison(
        any_store, ("channel",), window, "EUR", 7.0
    )
    assert currency == "EUR"
    live, _, _ = await reports_service.comparison(any_store, ("channel",), window, "EUR", 7.000001)
    assert [e["channel"] for e in entries] == [e["channel"] for e in live]
    for mine, theirs in zip(entries, live, strict=True):
        for model in ("first_touch", "last_non_direct", "linear", "position_based"):
            assert mine[model] == theirs[model]
