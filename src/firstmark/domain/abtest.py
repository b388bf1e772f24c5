"""The A/B report of a split link: each variant's numbers and a two-proportion z-test against
the control (variant 0).

Conversion rate = conversions / clicks (human clicks and scans), so it pairs with revenue per
click. The test is the textbook two-sided pooled z-test; its normal approximation needs a
sample, so a variant (or a control) under MIN_CLICKS clicks or MIN_CONVERSIONS conversions gets
a note and is never called significant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from firstmark.domain.variants import Variant

ALPHA = 0.05
MIN_CLICKS = 100
MIN_CONVERSIONS = 10
NOTE = f"fewer than {MIN_CLICKS} clicks or {MIN_CONVERSIONS} conversions: too early to call"


@dataclass(frozen=True, slots=True)
class VariantCounts:
    """What the store counted for one variant index."""

    clicks: int = 0
    visitors: int = 0
    conversions: int = 0
    revenue: float = 0.0


def two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2))


def z_test(conv_a: int, n_a: int, conv_b: int, n_b: int) -> float | None:
    """The two-sided p-value that rates conv_a/n_a and conv_b/n_b differ (pooled z-test);
    None when it is undefined (an empty side, more conversions than clicks, or no spread)."""
    if n_a <= 0 or n_b <= 0 or conv_a > n_a or conv_b > n_b or conv_a < 0 or conv_b < 0:
        return None
    pooled = (conv_a + conv_b) / (n_a + n_b)
    spread = pooled * (1 - pooled) * (1 / n_a + 1 / n_b)
    if spread <= 0:
        return None
    z = (conv_b / n_b - conv_a / n_a) / math.sqrt(spread)
    return two_sided_p(z)


def enough(counts: VariantCounts) -> bool:
    return counts.clicks >= MIN_CLICKS and counts.conversions >= MIN_CONVERSIONS


def report(
    variants: Sequence[Variant], counts: Mapping[int, VariantCounts]
) -> list[dict[str, Any]]:
    """One row per variant, in index order; the control's test fields are null. Variants
    counted but no longer configured (a split that ended) come with a null url and weight."""
    control = counts.get(0, VariantCounts())
    rows: list[dict[str, Any]] = []
    for index in range(max(len(variants), max(counts, default=-1) + 1)):
        variant = variants[index] if index < len(variants) else None
        got = counts.get(index, VariantCounts())
        row: dict[str, Any] = {
            "variant": index,
            "url": variant.url if variant else None,
            "weight": variant.weight if variant else None,
            "control": index == 0,
            "clicks": got.clicks,
            "visitors": got.visitors,
            "conversions": got.conversions,
            "conversion_rate": _ratio(got.conversions, got.clicks),
            "revenue": round(got.revenue, 2),
            "revenue_per_click": _ratio(got.revenue, got.clicks),
            "p_value": None,
            "significant": False,
            "note": None if enough(got) else NOTE,
        }
        if index > 0:
            p = z_test(control.conversions, control.clicks, got.conversions, got.clicks)
            row["p_value"] = None if p is None else round(p, 6)
            row["significant"] = p is not None and p < ALPHA and enough(got) and enough(control)
        rows.append(row)
    return rows


def _ratio(part: float, whole: int) -> float | None:
    return None if whole <= 0 else round(part / whole, 6)
