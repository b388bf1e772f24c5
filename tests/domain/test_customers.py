"""Customers: identities joined into one customer, new customers by first-touch channel, CAC,
LTV over 30/90/365 days and cohorts."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain.customers import (
    DAY,
    Purchase,
    acquired,
    by_channel,
    cohorts,
    customers,
    identity_keys,
    row_json,
    total,
)
from firstmark.errors import InvalidField

T0 = 1_767_225_600.0  # 2026-01-01
NOW = T0 + 400 * DAY


def buy(pid: int, day: float, value: str = "100", *keys: str, source: str = "google") -> Purchase:
    return Purchase(pid, T0 + day * DAY, Decimal(value), keys, source, "cpc", "spring")


def channel(p: Purchase) -> str:
    return p.source or "(none)"


def test_identity_keys_are_kept_apart_by_kind() -> None:
    assert identity_keys("abc12345", None, None) == ("v:abc12345",)
    assert identity_keys("x", "h1", "h2") == ("c:h1", "e:h2", "v:x")
    assert identity_keys(None, None, None) == ()


def test_conversions_sharing_any_identity_are_one_customer() -> None:
    # Visitor v1 buys, later signs in as customer c1 on the same browser, then buys as c1 on
    # a phone (visitor v2): one customer, three purchases, first through google.
    found, left = customers(
        [
            buy(3, 40, "50", "c:c1", "v:v2", source="newsletter"),
            buy(1, 0, "100", "v:v1"),
            buy(2, 10, "70", "c:c1", "v:v1", source="facebook"),
            buy(4, 5, "30", "v:v9"),
        ]
    )
    assert left == []
    assert sorted(len(c.purchases) for c in found) == [1, 3]
    big = max(found, key=lambda c: len(c.purchases))
    assert big.first.id == 1 and big.first.source == "google"
    assert big.revenue_within(30) == Decimal("170")
    assert big.revenue_within(90) == Decimal("220")


def test_unidentified_conversions_are_left_out_or_counted_alone() -> None:
    anonymous = [buy(1, 0), buy(2, 1)]
    found, left = customers([*anonymous, buy(3, 2, "100", "v:v1")])
    assert len(found) == 1 and left == anonymous
    found, left = customers([*anonymous, buy(3, 2, "100", "v:v1")], "separate")
    assert len(found) == 3 and left == []
    with pytest.raises(InvalidField) as caught:
        customers([], "merge")
    assert caught.value.field == "unidentified"


def test_new_customers_cac_and_ltv_by_channel() -> None:
    found, _ = customers(
        [
            buy(1, -10, "80", "v:old"),  # a customer from before the period
            buy(2, 5, "60", "v:old", source="facebook"),  # ... buying again: not new
            buy(3, 0, "100", "v:a"),
            buy(4, 20, "50", "v:a"),  # within 30 days of a's first
            buy(5, 200, "500", "v:a"),  # within 365 days only
            buy(6, 1, "40", "v:b"),
            buy(7, 3, "90", "v:c", source="facebook"),
        ]
    )
    new = acquired(found, T0, T0 + 31 * DAY)
    assert {c.first.id for c in new} == {3, 6, 7}
    spend = {"google": Decimal("300"), "facebook": Decimal("90"), "linkedin": Decimal("50")}
    rows = {r.key: r for r in by_channel(new, channel, spend, NOW)}
    google = rows["google"]
    assert google.new_customers == 2 and google.cac == Decimal("150.00")
    assert [ltv.per_customer for ltv in google.ltv] == [
        Decimal("95.00"),  # (100 + 50 + 40) / 2
        Decimal("95.00"),
        Decimal("345.00"),  # (650 + 40) / 2
    ]
    assert google.ratio(google.ltv[2]) == Decimal("2.30")
    assert rows["linkedin"].new_customers == 0 and rows["linkedin"].cac is None
    everyone = total(list(rows.values()), new, NOW)
    assert everyone.new_customers == 3 and everyone.spend == Decimal("440")
    shown = row_json(google)
    assert shown["cac"] == "150.00" and shown["ltv"]["365"]["ltv_cac"] == "2.30"


def test_ltv_counts_only_customers_whose_horizon_has_passed() -> None:
    found, _ = customers([buy(1, 0, "100", "v:a"), buy(2, 380, "100", "v:b")])
    row = by_channel(found, channel, {}, NOW)[0]
    assert [ltv.customers for ltv in row.ltv] == [1, 1, 1]  # b's first purchase is 20 days old
    early = by_channel(found, channel, {}, T0 + 100 * DAY)[0]
    assert [ltv.customers for ltv in early.ltv] == [1, 1, 0]
    assert early.ltv[2].per_customer is None


def test_cohorts_by_first_conversion_month() -> None:
    found, _ = customers(
        [buy(1, 0, "10", "v:a"), buy(2, 40, "10", "v:b"), buy(3, 45, "10", "v:c"),
         buy(4, 50, "10", "v:a")]
    )  # fmt: skip
    shown = [(m, r.key, r.new_customers) for m, r in cohorts(found, channel, NOW)]
    assert shown == [("2026-01", "google", 1), ("2026-02", "google", 2)]


identities = st.lists(
    st.tuples(
        st.integers(0, 400),
        st.lists(st.sampled_from(["v:a", "v:b", "v:c", "c:x", "c:y", "e:z"]), max_size=2),
    ),
    max_size=30,
)


@given(identities, st.randoms(use_true_random=False))
def test_every_identified_purchase_belongs_to_exactly_one_customer_in_any_order(
    drawn: list[tuple[int, list[str]]], rng: random.Random
) -> None:
    purchases = [buy(i, day, "10", *keys) for i, (day, keys) in enumerate(drawn)]
    found, left = customers(purchases)
    ids = sorted(p.id for c in found for p in c.purchases)
    assert ids == sorted(p.id for p in purchases if p.keys)
    assert len(left) == sum(1 for p in purchases if not p.keys)
    # No two customers share an identity.
    seen: set[str] = set()
    for c in found:
        mine = {k for p in c.purchases for k in p.keys}
        assert not mine & seen
        seen |= mine
    shuffled = purchases[:]
    rng.shuffle(shuffled)
    again, _ = customers(shuffled)
    assert sorted(sorted(p.id for p in c.purchases) for c in again) == sorted(
        sorted(p.id for p in c.purchases) for c in found
    )


@given(identities)
def test_revenue_never_falls_with_a_longer_horizon(drawn: list[tuple[int, list[str]]]) -> None:
    found, _ = customers([buy(i, day, "10", *keys) for i, (day, keys) in enumerate(drawn)])
    for c in found:
        assert c.revenue_within(30) <= c.revenue_within(90) <= c.revenue_within(365)
        assert c.revenue_within(30) >= c.first.value
    new = acquired(found, T0, T0 + 500 * DAY)
    rows = by_channel(new, channel, {}, NOW)
    assert sum(r.new_customers for r in rows) == len(found)
