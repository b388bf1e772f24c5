"""Significance tests for comparing a recent period with its baseline, standard library only.

Every test here is two-sided and symmetric: swapping the two periods (a drop becomes the
mirror rise) gives the same p-value. docs/reports-and-alerts.md says which KPI uses which.

The plain tests ask whether two periods differ at all (and match R's):

- `two_proportions`: the pooled two-proportion z-test (prop.test, correct = FALSE);
- `binomial`: the exact binomial test (binom.test), by summation in log space up to
  `EXACT_UP_TO` trials, the normal approximation with a continuity correction above;
- `poisson_rates`: two counts over exposures of different length (poisson.test): given the
  total n = a + b, a is binomial with p = exposure_a / (exposure_a + exposure_b) when both
  periods share one rate.

The `*_change` tests and `welch_ratios` with a `margin` ask whether they differ by more than
a band: the ratio of the two stays within [1/margin, margin] under the null, and the p-value
is that of the band's nearer edge. Alerts use these, so that noise (no change at all) almost
never passes:

- `poisson_change`: counts (traffic, conversions), the binomial tail at the edge, doubled;
- `proportions_change`: rates (conversion rate), the z-test on the log of the rate ratio;
- `welch_ratios`: ratios of sums (ROAS, ROI, CPA), Welch's t on their logs, standard errors
  from the daily values (the delta method), Student's t from the incomplete beta function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

EXACT_UP_TO = 1000  # trials summed exactly; above, the normal approximation (within 1e-3)
_RELATIVE = 1 + 1e-7  # ties in the exact test, as R's binom.test counts them


def normal_two_sided(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2))


def two_proportions(x1: int, n1: int, x2: int, n2: int) -> float:
    """p-value that x1 successes of n1 and x2 of n2 share one rate (pooled z-test, no
    continuity correction: prop.test(correct = FALSE) in R gives the same)."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return 1.0  # all or none succeeded in both: nothing differs
    return normal_two_sided((x1 / n1 - x2 / n2) / math.sqrt(variance))


def binomial(k: int, n: int, p: float) -> float:
    """Two-sided p-value of k successes in n trials of probability p: the probability of every
    outcome no more likely than k (as R's binom.test), or the continuity-corrected normal
    approximation above EXACT_UP_TO trials."""
    if n <= 0 or p <= 0 or p >= 1:
        return 1.0
    if n > EXACT_UP_TO:
        mean, sd = n * p, math.sqrt(n * p * (1 - p))
        return min(1.0, normal_two_sided(max(0.0, abs(k - mean) - 0.5) / sd))
    # log P(X = i), each from the one before: log C(n, i+1)/C(n, i) = log((n - i) / (i + 1)).
    odds = math.log(p) - math.log1p(-p)
    logs = [n * math.log1p(-p)]
    for i in range(n):
        logs.append(logs[-1] + math.log((n - i) / (i + 1)) + odds)
    limit = logs[k] + math.log(_RELATIVE)
    kept = [x for x in logs if x <= limit]
    top = max(kept)
    return min(1.0, math.exp(top) * math.fsum(math.exp(x - top) for x in kept))


def binomial_tail(k: int, n: int, p: float, *, lower: bool) -> float:
    """P(X <= k) (lower) or P(X >= k) of X binomial(n, p): exact up to EXACT_UP_TO trials,
    else the normal approximation with a continuity correction."""
    if n <= 0 or p <= 0 or p >= 1:
        return 1.0
    if n > EXACT_UP_TO:
        mean, sd = n * p, math.sqrt(n * p * (1 - p))
        z = (k + 0.5 - mean) / sd if lower else (mean - (k - 0.5)) / sd
        return 0.5 * math.erfc(-z / math.sqrt(2))
    odds = math.log(p) - math.log1p(-p)
    logs = [n * math.log1p(-p)]
    for i in range(n):
        logs.append(logs[-1] + math.log((n - i) / (i + 1)) + odds)
    kept = logs[: k + 1] if lower else logs[k:]
    top = max(kept)
    return min(1.0, math.exp(top) * math.fsum(math.exp(x - top) for x in kept))


def poisson_rates(a: int, exposure_a: float, b: int, exposure_b: float) -> float:
    """p-value that count a over exposure_a and b over exposure_b share one Poisson rate (R's
    poisson.test(c(a, b), c(exposure_a, exposure_b)))."""
    return binomial(a, a + b, exposure_a / (exposure_a + exposure_b))


def _beyond(log_ratio: float, margin: float) -> float:
    """How far a log ratio lies beyond the band [1/margin, margin]; 0 inside it."""
    return max(0.0, abs(log_ratio) - math.log(margin))


def poisson_change(a: int, exposure_a: float, b: int, exposure_b: float, margin: float) -> float:
    """p-value that the rate a/exposure_a is no further from b/exposure_b than the ratio
    `margin` (1.25: down to 0.8 times or up to 1.25 times): twice the binomial tail of a,
    given a + b, at the band's nearer edge. 1.0 when the rates are inside the band."""
    if b <= 0 and a <= 0:
        return 1.0
    if b <= 0 or a <= 0:
        observed = math.inf if b <= 0 else 0.0
    else:
        observed = (a / exposure_a) / (b / exposure_b)
    if 1 / margin <= observed <= margin:
        return 1.0
    edge = margin if observed > 1 else 1 / margin
    p = exposure_a * edge / (exposure_a * edge + exposure_b)
    return min(1.0, 2 * binomial_tail(a, a + b, p, lower=observed < 1))


def proportions_change(x1: int, n1: int, x2: int, n2: int, margin: float) -> float:
    """p-value that the rate x1/n1 is no further from x2/n2 than the ratio `margin`: the
    z-test on the log of the rate ratio (the relative risk), half a success added to each
    count when one is 0. 1.0 when the rates are inside the band."""
    if n1 <= 0 or n2 <= 0 or (x1 == 0 and x2 == 0):
        return 1.0
    if x1 == 0 or x2 == 0:
        a, m, b, k = x1 + 0.5, n1 + 1.0, x2 + 0.5, n2 + 1.0
    else:
        a, m, b, k = float(x1), float(n1), float(x2), float(n2)
    log_ratio = math.log((a / m) / (b / k))
    se = math.sqrt(max(0.0, 1 / a - 1 / m + 1 / b - 1 / k))
    distance = _beyond(log_ratio, margin)
    if distance == 0:
        return 1.0
    return 0.0 if se == 0 else normal_two_sided(distance / se)


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 3e-16
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < eps:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1 - math.exp(log_front) * _beta_fraction(b, a, 1 - x) / b


def student_two_sided(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with df degrees of freedom."""
    if math.isinf(t):
        return 0.0
    return incomplete_beta(df / 2, 0.5, df / (df + t * t))


def ratio_of_sums(numerators: Sequence[float], denominators: Sequence[float]) -> float | None:
    total = math.fsum(denominators)
    return math.fsum(numerators) / total if total else None


def ratio_error(numerators: Sequence[float], denominators: Sequence[float]) -> float | None:
    """The squared standard error of sum(numerators) / sum(denominators) over n days (delta method):
    sum((num_d - R*den_d)^2) / (n(n-1)) / mean(den)^2. None with fewer than two days or no
    denominator."""
    n = len(numerators)
    ratio = ratio_of_sums(numerators, denominators)
    if n < 2 or ratio is None:
        return None
    mean = math.fsum(denominators) / n
    residuals = math.fsum(
        (x - ratio * y) ** 2 for x, y in zip(numerators, denominators, strict=True)
    )
    return residuals / (n * (n - 1)) / (mean * mean)


def welch_ratios(
    numerators_1: Sequence[float],
    denominators_1: Sequence[float],
    numerators_2: Sequence[float],
    denominators_2: Sequence[float],
    margin: float = 1.0,
) -> float:
    """p-value that two periods' ratios of sums (revenue / spend, say) are no further apart
    than the ratio `margin` (1.0: equal), from their daily values: Welch's t on the log of the
    ratios, t = (|ln R1 - ln R2| - ln margin) / sqrt(se1^2/R1^2 + se2^2/R2^2), the degrees of
    freedom by Welch-Satterthwaite. 1.0 when a period cannot give a ratio and its error."""
    r1, r2 = (
        ratio_of_sums(numerators_1, denominators_1),
        ratio_of_sums(numerators_2, denominators_2),
    )
    v1, v2 = ratio_error(numerators_1, denominators_1), ratio_error(numerators_2, denominators_2)
    if r1 is None or r2 is None or v1 is None or v2 is None:
        return 1.0
    if r1 <= 0 or r2 <= 0:
        return 1.0  # no log: a period that earned nothing is left to the counts' tests
    # On the log scale a ratio's sampling error is nearly symmetric, and a fall to 0.8 times
    # is as far as the mirror rise to 1.25 times.
    w1, w2 = v1 / (r1 * r1), v2 / (r2 * r2)
    distance = _beyond(math.log(r1 / r2), margin)
    if distance == 0:
        return 1.0
    if w1 + w2 == 0:
        return 0.0  # no day varies: the difference is certain
    n1, n2 = len(numerators_1), len(numerators_2)
    df = (w1 + w2) ** 2 / (w1 * w1 / (n1 - 1) + w2 * w2 / (n2 - 1))
    return student_two_sided(distance / math.sqrt(w1 + w2), df)
