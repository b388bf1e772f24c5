"""KPI alerts: each channel's and campaign's last 7 days against its own 28 days before.

A KPI is raised only when all of these hold, so that noise stays silent:

- volume: the baseline holds enough to judge by (`Thresholds.min_conversions` conversions,
  or `min_traffic` clicks, scans and visits for traffic);
- effect: the KPI moved by at least `min_change` (20 %) down, or its mirror up (25 %: the
  same distance on a log scale, 0.8 x 1.25 = 1);
- significance: the test of domain/significance.py for that kind of figure says, with
  p below `p_max` (0.01), that the KPI moved further than that band, not merely that it
  moved. A KPI that did not move fires at a rate far below 1 %, which is what keeps 200
  campaigns x 6 KPIs (1,200 tests a day) quiet on noise.

Which test judges which KPI (docs/reports-and-alerts.md explains each number):

| KPI | test |
|---|---|
| traffic, conversions (a day) | Poisson rates, 7 days against 28 (conditional binomial) |
| conversion rate | z-test on the log ratio of two proportions, over unique visitors |
| ROAS, ROI, CPA | Welch's t on the log ratio of sums, errors from the daily values |

ROI is (ROAS - 1) x 100, so it shares the ROAS test; its effect is measured on ROAS too (a
relative change of a ROI near 0 means nothing).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from firstmark.domain import significance
from firstmark.domain.alerts import KPI_CHANGED, Alert

RECENT_DAYS = 7
BASELINE_DAYS = 28
METRICS = ("traffic", "conversions", "conversion_rate", "roas", "roi", "cpa")
LABELS = {
    "traffic": "traffic",
    "conversions": "conversions",
    "conversion_rate": "conversion rate",
    "roas": "ROAS",
    "roi": "ROI",
    "cpa": "CPA",
}
TESTS = {
    "traffic": "poisson",
    "conversions": "poisson",
    "conversion_rate": "two-proportion z",
    "roas": "welch ratio",
    "roi": "welch ratio",
    "cpa": "welch ratio",
}
MINUS = "\u2212"


@dataclass(frozen=True, slots=True)
class Thresholds:
    p_max: float = 0.01
    min_change: float = 0.20  # relative, either way
    min_conversions: int = 30  # in the baseline, for every KPI but traffic
    min_traffic: int = 100  # clicks, scans and visits in the baseline


@dataclass(frozen=True, slots=True)
class Day:
    """One UTC day of a channel or campaign, bots left out."""

    traffic: int = 0  # human clicks, scans and site visits
    conversions: int = 0
    revenue: float = 0.0  # in the report's currency
    spend: float | None = None  # None: no cost imported that day


@dataclass(frozen=True, slots=True)
class Subject:
    """A channel or campaign: its days (oldest first, BASELINE_DAYS then RECENT_DAYS) and the
    unique visitors of each period (not the sum of the days': a visitor counts once)."""

    dimension: str  # "channel" or "campaign"
    name: str
    baseline: Sequence[Day]
    recent: Sequence[Day]
    baseline_visitors: int = 0
    recent_visitors: int = 0
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A KPI that moved enough and passed its volume rule, with its uncorrected p-value."""

    subject: Subject
    metric: str
    before: float
    after: float
    change: float  # relative, of the KPI itself (ROI: of ROAS)
    p: float


def margin(t: Thresholds) -> float:
    """The band a change must be significantly beyond, as a ratio: a fall to 1 - min_change
    times (0.8) and its mirror, a rise to 1 / (1 - min_change) times (1.25)."""
    return 1 / (1 - t.min_change)


def _traffic(d: Day) -> float:
    return d.traffic


def _conversions(d: Day) -> float:
    return d.conversions


def _revenue(d: Day) -> float:
    return d.revenue


def _spend(d: Day) -> float:
    return d.spend or 0.0


# The daily numerator and denominator of each ratio KPI (ROI shares ROAS's).
RATIOS: dict[str, tuple[Callable[[Day], float], Callable[[Day], float]]] = {
    "roas": (_revenue, _spend),
    "roi": (_revenue, _spend),
    "cpa": (_spend, _conversions),
}


def _sum(days: Iterable[Day], value: Callable[[Day], float]) -> float:
    return math.fsum(value(d) for d in days)


def _ratio(s: Subject, metric: str) -> tuple[float, float] | None:
    """(before, after) of a ratio KPI over whole periods; None when either has none."""
    num, den = RATIOS[metric]
    before_den, after_den = _sum(s.baseline, den), _sum(s.recent, den)
    if before_den <= 0 or after_den <= 0:
        return None
    return _sum(s.baseline, num) / before_den, _sum(s.recent, num) / after_den


def _candidates(s: Subject, t: Thresholds) -> list[tuple[str, float, float, float]]:
    """(metric, before, after, relative change) of every KPI whose volume rule holds."""
    out: list[tuple[str, float, float, float]] = []
    traffic_b, traffic_r = _sum(s.baseline, _traffic), _sum(s.recent, _traffic)
    if traffic_b >= t.min_traffic:
        before, after = traffic_b / len(s.baseline), traffic_r / len(s.recent)
        out.append(("traffic", before, after, after / before - 1))
    conv_b, conv_r = _sum(s.baseline, _conversions), _sum(s.recent, _conversions)
    if conv_b < t.min_conversions:
        return out
    before, after = conv_b / len(s.baseline), conv_r / len(s.recent)
    out.append(("conversions", before, after, after / before - 1))
    if s.baseline_visitors >= conv_b and s.recent_visitors >= max(conv_r, 1):
        before = conv_b / s.baseline_visitors * 100
        after = conv_r / s.recent_visitors * 100
        out.append(("conversion_rate", before, after, after / before - 1))
    roas = _ratio(s, "roas")
    if roas is not None and roas[0] > 0:
        before, after = roas
        out.append(("roas", before, after, after / before - 1))
        out.append(("roi", (before - 1) * 100, (after - 1) * 100, after / before - 1))
    cpa = _ratio(s, "cpa")
    if cpa is not None and cpa[0] > 0:
        before, after = cpa
        out.append(("cpa", before, after, after / before - 1))
    return out


def p_value(s: Subject, metric: str, band: float) -> float:
    """The p-value that `metric` moved no further than the ratio `band` (the module's table)."""
    if metric in ("traffic", "conversions"):
        count = _traffic if metric == "traffic" else _conversions
        return significance.poisson_change(
            int(sum(count(d) for d in s.recent)),
            len(s.recent),
            int(sum(count(d) for d in s.baseline)),
            len(s.baseline),
            band,
        )
    if metric == "conversion_rate":
        return significance.proportions_change(
            sum(d.conversions for d in s.recent),
            s.recent_visitors,
            sum(d.conversions for d in s.baseline),
            s.baseline_visitors,
            band,
        )
    num, den = RATIOS[metric]
    return significance.welch_ratios(
        [num(d) for d in s.recent],
        [den(d) for d in s.recent],
        [num(d) for d in s.baseline],
        [den(d) for d in s.baseline],
        band,
    )


def findings(subjects: Iterable[Subject], t: Thresholds) -> list[Finding]:
    """Every KPI that passed its volume rule and moved at least `min_change`, with its p."""
    band = margin(t)
    out: list[Finding] = []
    for s in subjects:
        for metric, before, after, change in _candidates(s, t):
            if 1 / band < 1 + change < band:
                continue  # moved less than the minimum change (ROI: its ROAS did)
            out.append(Finding(s, metric, before, after, change, p_value(s, metric, band)))
    return out


def worse(metric: str, change: float) -> bool:
    """Whether the move is bad news: CPA rising, anything else falling."""
    return change > 0 if metric == "cpa" else change < 0


def _number(metric: str, value: float, currency: str | None) -> str:
    if metric in ("traffic", "conversions"):
        return f"{value:,.1f}".replace("-", MINUS)
    if metric in ("conversion_rate", "roi"):
        return f"{value:.1f} %".replace("-", MINUS)
    if metric == "cpa":
        return f"{value:,.2f}" + (f" {currency}" if currency else "")
    return f"{value:.2f}"


def _percent(change: float) -> str:
    sign = MINUS if change < 0 else "+"
    return f"{sign}{abs(change) * 100:.0f} %"


def message(f: Finding, p_max: float) -> str:
    """'Paid Social ROAS 2.10 → 1.20 (-43 %) over 7 days vs the 28 days before, p < 0.01',
    with a true minus sign."""
    s = f.subject
    who = s.name if s.dimension == "channel" else f"Campaign {s.name!r}"
    label = LABELS[f.metric] + (" a day" if f.metric in ("traffic", "conversions") else "")
    if f.metric == "roi":
        points = f.after - f.before
        sign = MINUS if points < 0 else "+"
        moved = f"{sign}{abs(points):.0f} points"
    else:
        moved = _percent(f.change)
    bound = "p < 0.001" if f.p < 0.001 else f"p < {p_max:g}"
    return (
        f"{who} {label} {_number(f.metric, f.before, s.currency)} → "
        f"{_number(f.metric, f.after, s.currency)} ({moved}) over {RECENT_DAYS} days vs the "
        f"{BASELINE_DAYS} days before, {bound}"
    )


def alert(f: Finding, p_max: float) -> Alert:
    s = f.subject
    return Alert(
        KPI_CHANGED,
        f"{s.dimension}:{s.name}:{f.metric}",
        message(f, p_max),
        {
            s.dimension: s.name,
            "metric": f.metric,
            "before": round(f.before, 4),
            "after": round(f.after, 4),
            "change": round(f.change, 4),
            "worse": worse(f.metric, f.change),
            "test": TESTS[f.metric],
            "p": f.p,
            "currency": s.currency if f.metric in ("roas", "roi", "cpa") else None,
            "recent_days": RECENT_DAYS,
            "baseline_days": BASELINE_DAYS,
        },
    )


def kpi_changes(subjects: Iterable[Subject], t: Thresholds = Thresholds()) -> list[Alert]:
    """The KPIs of these channels and campaigns that moved significantly beyond the minimum
    change, the surest first."""
    kept = [f for f in findings(subjects, t) if f.p < t.p_max]
    return [alert(f, t.p_max) for f in sorted(kept, key=lambda f: (f.p, f.subject.name, f.metric))]
