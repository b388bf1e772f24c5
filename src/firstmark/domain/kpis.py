"""Marketing KPIs from totals (docs/kpis.md says the same for readers of the reports).

A ratio over zero has no value: it is None here, `null` in JSON and "—" on screen and in CSV,
never 0 (a campaign with no spend did not have a CPA of 0) and never an error.

    CTR %             = clicks / impressions * 100
    CPC               = spend / clicks
    conversion rate % = conversions / visitors * 100
    CPA               = spend / conversions
    ROAS              = revenue / spend
    ROI %             = (revenue - spend) / spend * 100
    RPV               = revenue / visitors
    cost per call     = spend / qualified calls

Money stays Decimal throughout; results are rounded half-even to two decimals (ROAS to four).
Totals are per currency: adding spend in EUR to spend in USD is a bug, not a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

NO_VALUE = "—"
KPI_NAMES = ("ctr", "cpc", "conversion_rate", "cpa", "roas", "roi", "rpv", "cost_per_call")

_CENTS = Decimal("0.01")
_ROAS = Decimal("0.0001")
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Totals:
    """What a row of a report adds up to, bots excluded."""

    impressions: int = 0
    clicks: int = 0  # ad clicks when the cost import has them, else firstmark's human clicks
    visitors: int = 0  # unique visitors
    conversions: Decimal | int = 0  # attributed conversions may be fractional
    revenue: Decimal = Decimal(0)
    spend: Decimal | None = None  # None: no cost imported for this row (not the same as 0)
    qualified_calls: int = 0  # calls long enough to count as a conversion


def ratio(
    numerator: Decimal | int,
    denominator: Decimal | int,
    *,
    quantum: Decimal = _CENTS,
    scale: int = 1,
) -> Decimal | None:
    """numerator / denominator * scale, rounded to `quantum`; None when denominator is 0."""
    if not denominator:
        return None
    value = Decimal(numerator) * scale / Decimal(denominator)
    return value.quantize(quantum, rounding=ROUND_HALF_EVEN)


def kpis(t: Totals) -> dict[str, Decimal | None]:
    """Every KPI of a row. The cost-based ones have no value where no cost was imported."""
    costed = t.spend is not None
    spend = t.spend or Decimal(0)
    return {
        "ctr": ratio(t.clicks, t.impressions, scale=100),
        "cpc": ratio(spend, t.clicks) if costed else None,
        "conversion_rate": ratio(t.conversions, t.visitors, scale=100),
        "cpa": ratio(spend, t.conversions) if costed else None,
        "roas": ratio(t.revenue, spend, quantum=_ROAS),
        "roi": ratio(t.revenue - spend, spend, scale=100),
        "rpv": ratio(t.revenue, t.visitors),
        "cost_per_call": ratio(spend, t.qualified_calls) if costed else None,
    }


def shown(value: Decimal | int | None) -> str:
    """How a KPI reads on screen and in CSV: the number, or "—" when it has none."""
    return NO_VALUE if value is None else str(value)
