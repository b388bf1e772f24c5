"""Budget suggestions: the response curves recover known ones, the reallocation follows the
higher marginal return, and channels that never vary their spend are refused."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmark.domain.budget import (
    MIN_CV,
    MIN_DAYS,
    MIN_LEVELS,
    Channel,
    Curve,
    allocate,
    days_of,
    fit,
    suggest,
    variation,
)


def days(
    a: float, b: float, base: float = 0.0, n: int = 60, noise: float = 0.05, seed: int = 1
) -> tuple[list[float], list[float]]:
    """n days of spend between 50 and 400 and the outcome the true curve gives, with
    multiplicative noise."""
    rng = random.Random(seed)
    xs = [rng.uniform(50, 400) for _ in range(n)]
    truth = Curve(a, b, base)
    return xs, [truth.value(x) * (1 + rng.gauss(0, noise)) for x in xs]


@pytest.mark.parametrize(
    ("a", "b", "base"), [(100.0, 200.0, 0.0), (100.0, 200.0, 8.0), (30.0, 120.0, 2.0)]
)
def test_the_fit_recovers_a_known_curve(a: float, b: float, base: float) -> None:
    xs, ys = days(a, b, base, n=90, noise=0.02)
    found = fit(xs, ys)
    truth = Curve(a, b, base)
    assert found.shape == "saturating"
    assert found.r2 > 0.9
    for x in (100.0, 250.0, 400.0):  # where the data are, the curve and its slope agree
        assert found.curve.value(x) == pytest.approx(truth.value(x), rel=0.05)
        assert found.curve.marginal(x) == pytest.approx(truth.marginal(x), rel=0.25)


def test_a_straight_line_is_called_linear_and_no_spend_effect_flat() -> None:
    xs = [50.0 + 7 * i for i in range(40)]
    assert fit(xs, [0.1 * x for x in xs]).shape == "linear"
    assert fit(xs, [5.0] * len(xs)).shape == "flat"


def test_allocation_gives_each_slice_to_the_higher_marginal_return() -> None:
    steep, gentle = Curve(100, 100), Curve(100, 1000)
    split = allocate([steep, gentle], 400.0, [0.0, 0.0], [1000.0, 1000.0])
    assert sum(split) == pytest.approx(400.0)
    # Equal marginal returns at the optimum (to within one slice).
    assert steep.marginal(split[0]) == pytest.approx(gentle.marginal(split[1]), rel=0.05)
    # And no other split of the same total returns more.
    best = steep.value(split[0]) + gentle.value(split[1])
    for x in range(0, 401, 20):
        assert steep.value(x) + gentle.value(400 - x) <= best + 1e-6


def test_allocation_keeps_each_channel_within_its_observed_range() -> None:
    split = allocate([Curve(100, 10), Curve(1, 1e6)], 300.0, [50.0, 100.0], [120.0, 250.0])
    assert 50 <= split[0] <= 120 and 100 <= split[1] <= 250
    assert sum(split) == pytest.approx(300.0)


def test_the_suggestion_moves_money_toward_the_channel_with_the_higher_marginal_return() -> None:
    # Both spend about the same; "search" still gains a lot from more, "social" is saturated.
    xs1, ys1 = days(100, 2000, seed=2)
    xs2, ys2 = days(100, 60, seed=3)
    found = suggest([Channel("search", xs1, ys1), Channel("social", xs2, ys2)], draws=60)
    search, social = found.channels
    assert search.marginal > social.marginal
    assert search.suggested > search.current and social.suggested < social.current
    assert search.suggested + social.suggested == pytest.approx(found.total)
    assert found.suggested_return > found.current_return
    assert found.gain_interval.low > 0  # the gain holds across the bootstrap draws
    assert search.marginal_interval.low <= search.marginal <= search.marginal_interval.high


def test_the_suggestion_is_repeatable() -> None:
    xs, ys = days(100, 300)
    channels = [Channel("a", xs, ys), Channel("b", xs, [y / 2 for y in ys])]
    assert suggest(channels, draws=20) == suggest(channels, draws=20)


def test_channels_must_cover_the_same_days() -> None:
    with pytest.raises(ValueError):
        suggest([Channel("a", [1.0, 2.0], [1.0, 2.0]), Channel("b", [1.0], [1.0])], draws=1)


def test_variation_refuses_a_steady_spend() -> None:
    steady = [100.0] * 30
    assert not variation(steady).enough
    assert "distinct daily spend levels" in str(variation(steady).reason)
    # Many levels, but all within a few per cent of each other.
    narrow = [100.0 + (i % 7) * 1.5 for i in range(30)]
    assert variation(narrow).levels >= MIN_LEVELS
    assert variation(narrow).cv < MIN_CV
    assert "coefficient of variation" in str(variation(narrow).reason)


def test_variation_needs_enough_days_with_spend() -> None:
    short = [float(50 + 20 * i) for i in range(MIN_DAYS - 1)] + [0.0] * 20
    assert f"{MIN_DAYS - 1} days with spend" in str(variation(short).reason)
    assert variation([0.0] * 30).reason == "no spend in the period"
    assert variation([float(50 + 20 * i) for i in range(MIN_DAYS)]).enough


def test_days_of_fills_days_without_costs_with_zero() -> None:
    assert days_of({10: 5.0, 12: 7.0}, {11: 1.0}, range(10, 14)) == (
        [5.0, 0.0, 7.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
    )


curves = st.builds(
    Curve,
    st.floats(1, 1000),
    st.floats(10, 5000),
    st.floats(0, 50),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(curves, min_size=1, max_size=5), st.floats(0, 5000))
def test_allocation_spends_the_whole_budget_and_never_less_well(
    found: list[Curve], total: float
) -> None:
    n = len(found)
    split = allocate(found, total, [0.0] * n, [total] * n)
    assert sum(split) == pytest.approx(total, abs=1e-6)
    assert all(x >= 0 for x in split)
    even = sum(c.value(total / n) for c in found)
    assert sum(c.value(x) for c, x in zip(found, split, strict=True)) >= even - 1e-6 * (
        1 + abs(even)
    )


@settings(max_examples=40, deadline=None)
@given(st.floats(1, 1000), st.floats(20, 2000), st.floats(0, 20))
def test_a_noiseless_curve_is_fitted_closely(a: float, b: float, base: float) -> None:
    xs = [10.0 + 10 * i for i in range(40)]
    truth = Curve(a, b, base)
    found = fit(xs, [truth.value(x) for x in xs]).curve
    for x in xs:
        assert math.isclose(found.value(x), truth.value(x), rel_tol=0.02, abs_tol=0.01 * a)
