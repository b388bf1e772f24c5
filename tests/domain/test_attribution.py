"""Attribution models: who gets how much of a conversion."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain.attribution import (
    DAY,
    MODELS,
    Conversion,
    attribute,
    compare,
    credit_rows,
    journey,
    last_non_direct,
    shares,
    split_value,
)
from firstmark.domain.attribution import DIRECT as LABEL_DIRECT
from firstmark.domain.attribution import NONE as LABEL_NONE
from firstmark.domain.events import Touch
from firstmark.errors import InvalidField

T0 = 1_764_000_000.0


def touch(ts: float, source: str | None = None, medium: str | None = None, **more: Any) -> Touch:
    return Touch(ts, utm_source=source, utm_medium=medium, **more)


EMAIL = touch(T0 - 10 * DAY, "newsletter", "email", utm_campaign="spring")
DIRECT = touch(T0 - 5 * DAY)
SEARCH = touch(T0 - 3 * DAY, "google", "cpc", utm_campaign="brand")
POSTER = touch(T0 - 1 * DAY, "print", "qr", link_id=7)
GCLID_ONLY = touch(T0 - 2 * DAY, click_ids={"gclid": "Cj0KCQ"})


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("first_touch", [1, 0, 0, 0]),
        ("last_non_direct", [0, 0, 0, 1]),
        ("linear", [Fraction(1, 4)] * 4),
        ("position_based", [Fraction(2, 5), Fraction(1, 10), Fraction(1, 10), Fraction(2, 5)]),
    ],
)
def test_models_on_a_four_touch_journey(model: str, expected: list[Fraction]) -> None:
    assert shares(model, [EMAIL, DIRECT, SEARCH, POSTER], T0) == expected


def test_last_non_direct_skips_a_direct_return_visit() -> None:
    assert shares("last_non_direct", [EMAIL, SEARCH, DIRECT], T0) == [0, 1, 0]
    assert shares("last_non_direct", [DIRECT, DIRECT], T0) == [0, 1]  # all direct: the last


def test_a_click_id_alone_is_not_direct() -> None:
    assert last_non_direct([SEARCH, GCLID_ONLY, DIRECT], T0, 30) == GCLID_ONLY
    assert last_non_direct([DIRECT], T0, 30) == DIRECT
    assert last_non_direct([], T0, 30) is None


def test_position_based_with_one_and_two_touches() -> None:
    assert shares("position_based", [SEARCH], T0) == [1]
    assert shares("position_based", [EMAIL, SEARCH], T0) == [Fraction(1, 2)] * 2


def test_time_decay_halves_per_half_life() -> None:
    week_ago = touch(T0 - 7 * DAY, "a", "b")
    today = touch(T0, "c", "d")
    assert shares("time_decay", [week_ago, today], T0) == [Fraction(1, 3), Fraction(2, 3)]
    two_days = shares("time_decay", [week_ago, today], T0, half_life_days=3.5)
    assert two_days == [Fraction(1, 5), Fraction(4, 5)]


def test_time_decay_needs_a_positive_half_life() -> None:
    with pytest.raises(InvalidField) as err:
        shares("time_decay", [SEARCH], T0, half_life_days=0)
    assert err.value.field == "half_life_days"


def test_unknown_model_names_the_field() -> None:
    with pytest.raises(InvalidField) as err:
        shares("data_driven", [SEARCH], T0)
    assert err.value.field == "model"


def test_journey_keeps_the_window_and_orders_by_time() -> None:
    late = touch(T0 + 60, "after", "conversion")
    old = touch(T0 - 31 * DAY, "too", "old")
    assert journey([POSTER, late, EMAIL, old, SEARCH], T0, 30) == [EMAIL, SEARCH, POSTER]


def test_value_split_gives_the_odd_cent_to_the_largest_remainder() -> None:
    thirds = [Fraction(1, 3)] * 3
    assert split_value(Decimal("100.00"), thirds, Decimal("0.01")) == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    assert split_value(Decimal("-10"), [Fraction(1, 4), Fraction(3, 4)], Decimal(1)) == [
        Decimal(-3),
        Decimal(-7),
    ]


def test_attribute_leaves_out_touches_without_credit() -> None:
    credits = attribute("first_touch", [EMAIL, SEARCH], T0, Decimal("49.90"))
    assert [(c.touch, c.share, c.value) for c in credits] == [
        (EMAIL, Fraction(1), Decimal("49.90"))
    ]


def test_comparison_puts_models_side_by_side_with_equal_totals() -> None:
    conversions = [
        Conversion(T0, Decimal("100.00"), [EMAIL, SEARCH, POSTER]),
        Conversion(T0, Decimal("50.00"), [SEARCH]),
        Conversion(T0, Decimal("20.00"), []),  # no touch at all: direct
    ]
    table = compare(conversions)
    cents = Decimal("0.01")
    assert table[("google", "cpc")]["last_non_direct"].conversions == 1
    assert table[("print", "qr")]["last_non_direct"].value(cents) == Decimal("100.00")
    assert table[("newsletter", "email")]["first_touch"].value(cents) == Decimal("100.00")
    assert table[("(direct)", "(none)")]["linear"].value(cents) == Decimal("20.00")
    assert table[("google", "cpc")]["linear"].conversions == pytest.approx(4 / 3)
    assert table[("google", "cpc")]["linear"].value(cents) == Decimal("83.33")
    for model in MODELS:
        column = [row[model] for row in table.values() if model in row]
        assert sum(t.conversions for t in column) == pytest.approx(3)
        assert sum(t.value(cents) for t in column) == Decimal("170.00")


touches = st.builds(
    Touch,
    ts=st.floats(min_value=T0 - 90 * DAY, max_value=T0, allow_nan=False),
    utm_source=st.sampled_from([None, "google", "meta", "newsletter"]),
    utm_medium=st.sampled_from([None, "cpc", "social", "email"]),
    link_id=st.sampled_from([None, 1, 2]),
)
values = st.decimals(min_value=Decimal("-1000"), max_value=Decimal("100000"), places=2)


@given(
    path=st.lists(touches, min_size=1, max_size=40),
    model=st.sampled_from(MODELS),
    value=values,
    half_life=st.floats(min_value=0.01, max_value=365),
)
def test_credits_sum_to_one_and_values_to_the_value(
    path: list[Touch], model: str, value: Decimal, half_life: float
) -> None:
    ordered = journey(path, T0, 90)
    parts = shares(model, ordered, T0, half_life_days=half_life)
    assert sum(parts, Fraction(0)) == 1
    assert all(p >= 0 for p in parts)
    credits = attribute(model, ordered, T0, value, half_life_days=half_life)
    assert sum(c.share for c in credits) == 1
    assert sum(c.value for c in credits) == value


@given(
    path=st.lists(touches, min_size=0, max_size=12),
    value=values,
)
def test_comparison_splits_every_value_exactly(path: list[Touch], value: Decimal) -> None:
    table = compare([Conversion(T0, value, journey(path, T0, 90))])
    for model in MODELS:
        column = [row[model] for row in table.values() if model in row]
        assert sum(t.units for t in column) * Decimal("0.01") == value
        assert sum(t.conversions for t in column) == pytest.approx(1)


@given(
    parts=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=30).filter(any),
    value=values,
)
def test_split_never_strays_more_than_one_unit(parts: list[int], value: Decimal) -> None:
    total = sum(parts)
    fractions = [Fraction(p, total) for p in parts]
    split = split_value(value, fractions, Decimal("0.01"))
    assert sum(split) == value
    for amount, share in zip(split, fractions, strict=True):
        assert abs(Fraction(amount) - Fraction(value) * share) < Fraction(1, 100)


def report_key(t: Any) -> tuple[Any, ...]:
    """Rows keyed as reports key them (a touch without tags keeps None)."""
    return (LABEL_DIRECT, LABEL_NONE) if t.direct else (t.utm_source, t.utm_medium)


@given(
    paths=st.lists(st.lists(touches, min_size=0, max_size=6), min_size=1, max_size=8),
    value=values,
)
def test_stored_credits_add_up_to_the_live_comparison(
    paths: list[list[Touch]], value: Decimal
) -> None:
    conversions = [Conversion(T0, value, journey(p, T0, 90)) for p in paths]
    live = compare(  # rows keyed as reports key them (a touch without tags keeps None)
        conversions,
        key=lambda t: (LABEL_DIRECT, LABEL_NONE) if t.direct else (t.utm_source, t.utm_medium),
    )
    summed: dict[tuple[object, str], list[float]] = {}
    for conversion in conversions:
        for model, _, _, source, medium, *_, share, units in credit_rows(conversion):
            entry = summed.setdefault(((source, medium), model), [0.0, 0])
            entry[0] += share
            entry[1] += units
    assert {(k, m): t.units for k, row in live.items() for m, t in row.items()} == {
        key: int(v[1]) for key, v in summed.items()
    }
    for (k, m), (share, _) in summed.items():
        assert live[k][m].conversions == pytest.approx(share)
