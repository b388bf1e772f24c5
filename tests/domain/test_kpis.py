"""KPI formulas: the numbers a marketer reads, and "—" where there is none."""

from __future__ import annotations

from decimal import Decimal

import pytest

from firstmark.domain.kpis import KPI_NAMES, Totals, kpis, ratio, shown


def test_kpis_of_a_paid_campaign() -> None:
    t = Totals(
        impressions=20_000,
        clicks=500,
        visitors=400,
        conversions=20,
        revenue=Decimal("2400.00"),
        spend=Decimal("600.00"),
        qualified_calls=8,
    )
    assert kpis(t) == {
        "ctr": Decimal("2.50"),
        "cpc": Decimal("1.20"),
        "conversion_rate": Decimal("5.00"),
        "cpa": Decimal("30.00"),
        "roas": Decimal("4.0000"),
        "roi": Decimal("300.00"),
        "rpv": Decimal("6.00"),
        "cost_per_call": Decimal("75.00"),
    }


def test_nothing_to_divide_by_has_no_value_not_zero() -> None:
    organic = kpis(Totals(clicks=120, visitors=100, conversions=3, revenue=Decimal("90")))
    assert organic["ctr"] is None  # no impressions imported
    assert organic["cpc"] is None and organic["cpa"] is None  # no cost imported: not "0.00"
    assert kpis(Totals(qualified_calls=4))["cost_per_call"] is None
    assert organic["roas"] is None and organic["roi"] is None
    assert organic["conversion_rate"] == Decimal("3.00")
    assert set(kpis(Totals())) == set(KPI_NAMES)
    assert all(v is None for v in kpis(Totals()).values())


def test_free_clicks_cost_nothing_once_a_cost_of_zero_is_imported() -> None:
    result = kpis(Totals(clicks=10, conversions=2, spend=Decimal(0)))
    assert result["cpc"] == Decimal("0.00") and result["cpa"] == Decimal("0.00")
    assert result["roas"] is None


def test_losing_campaign_has_a_negative_roi() -> None:
    result = kpis(Totals(spend=Decimal("200"), revenue=Decimal("50"), conversions=1))
    assert result["roi"] == Decimal("-75.00")
    assert result["cpa"] == Decimal("200.00")


def test_fractional_attributed_conversions() -> None:
    assert ratio(Decimal("100"), Decimal("2.5")) == Decimal("40.00")


@pytest.mark.parametrize(("value", "text"), [(None, "—"), (Decimal("1.50"), "1.50"), (0, "0")])
def test_shown(value: Decimal | int | None, text: str) -> None:
    assert shown(value) == text
