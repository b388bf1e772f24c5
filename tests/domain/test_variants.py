"""A/B destinations: reading a split, the sticky weighted pick, and the test of the report."""

from __future__ import annotations

import math
import secrets
from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain import abtest
from firstmark.domain.abtest import VariantCounts, report, two_sided_p, z_test
from firstmark.domain.clicks import ClickSigner, token_variant, variant_prefix
from firstmark.domain.links import LinkPolicy, apply_patch, new_link
from firstmark.domain.variants import SPAN, Variant, bounds, parse_variants, pick, visitor_key
from firstmark.domain.visitors import visitor_day_hash
from firstmark.errors import InvalidField

A, B, C = "https://shop.example/a", "https://shop.example/b", "https://shop.example/c"
POLICY = LinkPolicy()
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ([{"url": A}], "variants"),
        ([{"url": A}] * 6, "variants"),
        ("https://a.example", "variants"),
        ([{"url": A}, {"url": "javascript:alert(1)"}], "variants[1].url"),
        ([{"url": A}, {"url": "https://u:p@shop.example/"}], "variants[1].url"),
        ([{"url": A}, {"weight": 1}], "variants[1].url"),
        ([{"url": A, "weight": 0}, {"url": B}], "variants[0].weight"),
        ([{"url": A, "weight": -2}, {"url": B}], "variants[0].weight"),
        ([{"url": A, "weight": True}, {"url": B}], "variants[0].weight"),
        ([{"url": A, "weight": "1"}, {"url": B}], "variants[0].weight"),
        ([{"url": A, "share": 1}, {"url": B}], "variants[0].share"),
        ([A, B], "variants[0]"),
    ],
)
def test_a_bad_split_names_its_field(value: object, field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_variants(value)
    assert caught.value.field == field


def test_a_split_outside_the_allowed_hosts_is_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        parse_variants(
            [{"url": A}, {"url": "https://other.example/"}], allowed_hosts={"shop.example"}
        )
    assert caught.value.field == "variants[1].url"


def test_weights_are_whole_numbers_or_fractions_and_default_to_one() -> None:
    assert parse_variants([{"url": A, "weight": 3}, {"url": B, "weight": 1.5}, {"url": C}]) == (
        Variant(A, 3), Variant(B, 1.5), Variant(C, 1),
    )  # fmt: skip
    assert parse_variants(None) == parse_variants([]) == ()


def test_a_new_split_sets_the_destination_to_its_control() -> None:
    link = new_link({"variants": [{"url": A}, {"url": B}]}, POLICY, NOW).link
    assert link.destination == A and [v.url for v in link.variants] == [A, B]
    with pytest.raises(InvalidField) as caught:
        new_link({"destination": C, "variants": [{"url": A}, {"url": B}]}, POLICY, NOW)
    assert caught.value.field == "variants"


def test_a_new_destination_moves_the_control_and_null_ends_the_split() -> None:
    link = new_link({"variants": [{"url": A, "weight": 2}, {"url": B}]}, POLICY, NOW).link
    moved = apply_patch(link, {"destination": C}, POLICY, NOW).link
    assert moved.destination == C and moved.variants == (Variant(C, 2), Variant(B, 1))
    ended = apply_patch(moved, {"variants": None}, POLICY, NOW).link
    assert ended.variants == () and ended.destination == C


def test_bounds_follow_the_weights_and_end_at_the_span() -> None:
    assert bounds([1, 1]) == (SPAN // 2, SPAN)
    assert bounds([1, 3]) == (SPAN // 4, SPAN)
    assert bounds([0.5, 0.25, 0.25]) == (SPAN // 2, SPAN * 3 // 4, SPAN)


@given(st.integers(0, 2**64 - 1), st.integers(1, 2**40), st.integers(2, 5))
def test_a_visitor_always_gets_the_same_variant_in_range(key: int, link_id: int, n: int) -> None:
    cumulative = bounds([1] * n)
    first = pick(key, link_id, cumulative)
    assert 0 <= first < n
    assert pick(key, link_id, cumulative) == first


def test_visitors_split_near_the_weights() -> None:
    salt = secrets.token_bytes(32)
    cumulative = bounds([1, 2, 7])
    got = Counter(
        pick(visitor_key(visitor_day_hash(salt, "go.example", f"10.0.{i // 250}.{i % 250}", "UA")),
             42, cumulative)
        for i in range(10_000)
    )  # fmt: skip
    # 10,000 draws: three standard deviations are under 1.5 points for every share here.
    assert abs(got[0] / 10_000 - 0.1) < 0.015
    assert abs(got[1] / 10_000 - 0.2) < 0.015
    assert abs(got[2] / 10_000 - 0.7) < 0.015


def test_two_links_split_the_same_visitors_independently() -> None:
    salt = secrets.token_bytes(32)
    keys = [visitor_key(visitor_day_hash(salt, "h", f"10.1.0.{i}", "UA")) for i in range(2000)]
    cumulative = bounds([1, 1])
    same = sum(pick(k, 1, cumulative) == pick(k, 2, cumulative) for k in keys)
    assert 850 < same < 1150  # about half, not all


def test_p_value_of_the_normal_quantile() -> None:
    assert two_sided_p(1.959964) == pytest.approx(0.05, abs=1e-6)
    assert two_sided_p(-2.575829) == pytest.approx(0.01, abs=1e-6)
    assert two_sided_p(0) == 1.0


def test_z_test_matches_the_textbook_example() -> None:
    # 100/1000 against 130/1000: pooled p = 0.115, SE = sqrt(0.115 * 0.885 * 2/1000),
    # z = 0.03 / 0.0142671 = 2.10273, two-sided p = 0.03549.
    p = z_test(100, 1000, 130, 1000)
    assert p == pytest.approx(0.03549, abs=5e-5)
    assert z_test(130, 1000, 100, 1000) == p  # two-sided: the order does not matter
    assert z_test(50, 500, 50, 500) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "counts", [(0, 0, 5, 10), (11, 10, 1, 10), (0, 10, 0, 10), (10, 10, 10, 10)]
)
def test_z_test_is_undefined_without_a_sample_or_spread(counts: tuple[int, ...]) -> None:
    assert z_test(*counts) is None


@given(st.integers(1, 10_000), st.integers(1, 10_000), st.data())
def test_p_value_is_a_probability(n_a: int, n_b: int, data: st.DataObject) -> None:
    conv_a = data.draw(st.integers(0, n_a))
    conv_b = data.draw(st.integers(0, n_b))
    p = z_test(conv_a, n_a, conv_b, n_b)
    assert p is None or 0.0 <= p <= 1.0
    assert p == z_test(conv_b, n_b, conv_a, n_a)


def test_report_rows_carry_rates_the_test_and_the_minimum_sample_note() -> None:
    rows = report(
        (Variant(A, 1), Variant(B, 1), Variant(C, 2)),
        {
            0: VariantCounts(clicks=1000, visitors=900, conversions=100, revenue=4900.0),
            1: VariantCounts(clicks=1000, visitors=910, conversions=130, revenue=6370.0),
            2: VariantCounts(clicks=40, visitors=40, conversions=9, revenue=90.0),
        },
    )
    control, winner, small = rows
    assert control["p_value"] is None and control["note"] is None and control["control"]
    assert (winner["conversion_rate"], winner["revenue_per_click"]) == (0.13, 6.37)
    assert winner["p_value"] == pytest.approx(0.03549, abs=5e-5) and winner["significant"]
    assert small["note"] == abtest.NOTE and small["significant"] is False
    assert math.isclose(small["conversion_rate"], 0.225)


def test_an_ended_split_keeps_the_counted_variants_without_urls() -> None:
    rows = report((), {1: VariantCounts(clicks=3)})
    assert [(r["variant"], r["url"], r["clicks"]) for r in rows] == [(0, None, 0), (1, None, 3)]


def test_a_click_token_names_its_variant_and_still_verifies() -> None:
    signer = ClickSigner("s")
    token = signer.token(variant_prefix("aZ", 3), 1_800_000_000)
    click = signer.verify(token)
    assert click is not None and (click.link_id, click.variant) == (10 * 62 + 61, 3)
    assert token_variant(token) == 3
    plain = signer.token("aZ", 1_800_000_000)
    assert token_variant(plain) is None and signer.verify(plain) is not None
    forged = token.replace("aZ-3", "aZ-1", 1)
    assert signer.verify(forged) is None
