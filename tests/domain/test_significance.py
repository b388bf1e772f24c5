"""Significance tests against R's reference values, and the symmetry alerts rely on."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain import significance as sig


def test_normal_and_student_tails_match_tables() -> None:
    assert sig.normal_two_sided(1.959964) == pytest.approx(0.05, abs=1e-6)
    assert sig.normal_two_sided(2.575829) == pytest.approx(0.01, abs=1e-6)
    assert sig.student_two_sided(2.228139, 10) == pytest.approx(0.05, abs=1e-6)
    assert sig.student_two_sided(4.032143, 5) == pytest.approx(0.01, abs=1e-6)


def test_exact_tests_match_r() -> None:
    # binom.test(682, 925, p = 3/4): p-value = 0.3825
    assert sig.binomial(682, 925, 0.75) == pytest.approx(0.3825, abs=5e-5)
    # poisson.test(c(11, 6 + 8 + 7), c(800, 1083 + 1050 + 878)): p-value = 0.07967
    assert sig.poisson_rates(11, 800, 21, 3011) == pytest.approx(0.07967, abs=5e-6)
    # prop.test(c(60, 50), c(100, 100), correct = FALSE): X-squared = 2.0202, p = 0.1552
    assert sig.two_proportions(60, 100, 50, 100) == pytest.approx(0.1552, abs=5e-5)


def exact_tail(k: int, n: int, p: Fraction) -> float:
    """P(X <= k) in exact rational arithmetic, for checking."""
    return float(sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1)))


def test_the_normal_approximation_takes_over_close_to_the_exact_sum() -> None:
    for n in (sig.EXACT_UP_TO, sig.EXACT_UP_TO + 1):  # summed, then approximated
        for k in (150, 170, 185):
            assert sig.binomial_tail(k, n, 0.2, lower=True) == pytest.approx(
                exact_tail(k, n, Fraction(1, 5)), abs=1e-3
            )


def test_a_change_inside_the_band_is_never_significant() -> None:
    assert sig.poisson_change(90, 7, 400, 28, 1.25) == 1.0  # 0.9 times
    assert sig.proportions_change(95, 1000, 100, 1000, 1.25) == 1.0
    assert sig.welch_ratios([1, 1.1], [1, 1], [1, 1.2], [1, 1], 1.25) == 1.0


def test_a_far_move_beyond_the_band_is() -> None:
    assert sig.poisson_change(40, 7, 400, 28, 1.25) < 1e-4  # 0.4 times the rate
    assert sig.proportions_change(20, 1000, 60, 1000, 1.25) < 0.01
    recent = [1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0]
    assert sig.welch_ratios(recent, [2.0] * 7, recent * 4, [1.0] * 28, 1.25) < 1e-6


counts = st.integers(min_value=0, max_value=3000)


@given(counts, counts)
def test_identical_periods_are_never_significant(a: int, n: int) -> None:
    assert sig.poisson_change(a, 7, 4 * a, 28, 1.25) == 1.0
    if n >= a:
        assert sig.proportions_change(a, n, a, n, 1.25) == 1.0
        assert sig.two_proportions(a, n, a, n) == 1.0


@given(counts, counts)
def test_a_drop_and_its_mirror_rise_give_one_p(a: int, b: int) -> None:
    # Swapping the periods turns a drop into the mirror rise.
    assert sig.poisson_change(a, 7, b, 28, 1.25) == pytest.approx(
        sig.poisson_change(b, 28, a, 7, 1.25), rel=1e-9, abs=1e-12
    )
    assert sig.poisson_rates(a, 10, b, 10) == pytest.approx(sig.poisson_rates(b, 10, a, 10))
    n = 3000
    assert sig.proportions_change(a, n, b, n, 1.25) == pytest.approx(
        sig.proportions_change(b, n, a, n, 1.25)
    )


days = st.lists(st.floats(min_value=0.1, max_value=1000), min_size=7, max_size=7)


@given(days, days, days, days)
def test_welch_on_ratios_is_symmetric(n1: list[float], d1: list[float], n2: list[float],
                                      d2: list[float]) -> None:  # fmt: skip
    assert sig.welch_ratios(n1, d1, n2, d2, 1.25) == pytest.approx(
        sig.welch_ratios(n2, d2, n1, d1, 1.25)
    )
    assert sig.welch_ratios(n1, d1, n1, d1, 1.25) == 1.0
