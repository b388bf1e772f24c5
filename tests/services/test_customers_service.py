"""The customers report from stored conversions, on both engines: one buyer on two devices is
one customer, CAC divides spend by new customers, LTV sums what they bought within 30, 90
and 365 days, and conversions without a countable identity are left out or counted alone."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from firstmark.domain.consent import Consent
from firstmark.domain.costs import CostRow
from firstmark.domain.customers import month
from firstmark.domain.userdata import sha256
from firstmark.services import customers
from firstmark.services.reports import Window
from firstmark.store import Store
from insighttools import DAY, TODAY, midnight, order_goal, sell, touch

START = TODAY - timedelta(days=120)  # the period: 120 days ago to 90 days ago
ACCOUNT = sha256("account-1")


async def seed(store: Store) -> None:
    goal = await order_goal(store)
    t0 = midnight(START) + 3600
    # Ann comes by search, buys on her laptop, signs in, and buys twice more (once on a phone).
    await touch(store, "ann-laptop-01", t0, "google", "cpc")
    await sell(store, goal, "a1", t0 + 60, 100, visitor="ann-laptop-01")
    await sell(store, goal, "a2", t0 + 10 * DAY, 60, visitor="ann-laptop-01", customer=ACCOUNT)
    await sell(store, goal, "a3", t0 + 50 * DAY, 50, visitor="ann-phone-001", customer=ACCOUNT)
    # Bob comes by social and buys once.
    await touch(store, "bob-browser-1", t0 + 5 * DAY, "facebook", "paid_social")
    await sell(store, goal, "b1", t0 + 5 * DAY + 60, 40, visitor="bob-browser-1")
    # Two buyers who refused analytics: nothing to count them by.
    for i in range(2):
        await sell(store, goal, f"x{i}", t0 + (7 + i) * DAY, 30, visitor="anon-00000000",
                   consent=Consent())  # fmt: skip
    # Carol bought before the period: her purchase in it is not a new customer.
    await sell(store, goal, "c0", t0 - 40 * DAY, 10, visitor="carol-000001")
    await sell(store, goal, "c1", t0 + 3 * DAY, 10, visitor="carol-000001")
    await store.replace_costs(
        [
            CostRow(START, "google", "cpc", "brand", Decimal("150"), "EUR"),
            CostRow(START, "facebook", "paid_social", "retarget", Decimal("80"), "EUR"),
        ]
    )


def period() -> Window:
    return Window.of({"from": START.isoformat(), "to": (START + timedelta(days=30)).isoformat()})


async def test_new_customers_cac_and_ltv_by_acquisition_channel(any_store: Store) -> None:
    await seed(any_store)
    report = await customers.report(any_store, period(), None, "channel", "exclude", None)
    rows = {r.key: r for r in report.found.rows}
    assert set(rows) == {"Paid Search", "Paid Social"}
    ann, bob = rows["Paid Search"], rows["Paid Social"]
    assert ann.new_customers == 1 and ann.cac == Decimal("150.00")
    assert [ltv.per_customer for ltv in ann.ltv] == [
        Decimal("160.00"), Decimal("210.00"), None,  # 365 days have not passed yet
    ]  # fmt: skip
    assert ann.ratio(ann.ltv[1]) == Decimal("1.40")
    assert bob.new_customers == 1 and bob.cac == Decimal("80.00")
    assert report.found.total.new_customers == 2  # not Carol, not the unidentified
    assert report.found.unidentified == 2
    assert report.found.unidentified_revenue == Decimal("60")
    t0 = midnight(START) + 3600
    assert {(m, r.key, r.new_customers) for m, r in report.found.cohorts} == {
        (month(t0), "Paid Search", 1), (month(t0 + 5 * DAY), "Paid Social", 1),
    }  # fmt: skip


async def test_unidentified_conversions_can_count_as_customers_of_their_own(
    any_store: Store,
) -> None:
    await seed(any_store)
    report = await customers.report(any_store, period(), None, "channel", "separate", None)
    assert report.found.total.new_customers == 4
    assert report.found.unidentified == 0
    direct = {r.key: r for r in report.found.rows}["Direct"]
    assert direct.new_customers == 2 and direct.spend is None and direct.cac is None


async def test_by_campaign_spend_meets_customers_by_first_touch_campaign(
    any_store: Store,
) -> None:
    await seed(any_store)
    report = await customers.report(any_store, period(), None, "campaign", "exclude", None)
    rows = {r.key: r for r in report.found.rows}
    # Spend was on campaigns the touches do not name: it shows, with no customers to divide.
    assert rows["brand"].spend == Decimal("150") and rows["brand"].cac is None
    assert rows["(none)"].new_customers == 2
