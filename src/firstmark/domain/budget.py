"""Budget suggestions: a response curve per channel, the marginal return at current spend,
and a reallocation of the same total that raises the expected return (docs/budget.md).

Each channel's day is a point (x, y): x its imported spend, y the outcome credited to its
touches of that day (conversions or value, under one attribution model). The curve is an
exponential saturation with a base,

    y = c + a · (1 - e^(-x/b))          a, b > 0, c ≥ 0

fitted by least squares: for a fixed scale b the model is linear in (c, a), solved in closed
form, so only b is searched (a log grid, then golden-section search). Its slope, the marginal
return, is (a/b)·e^(-x/b): it only falls as spend rises, so giving each next slice of the
budget to the channel whose next slice returns most (greedy) is the best split of a total.

Intervals come from a bootstrap over days: the same days drawn with replacement for every
channel (keeping what they share, such as a weekday or a sale), every curve fitted again.
Nothing here is applied: it is advice, with the data it rests on.
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DAY = 86_400
MIN_DAYS = 14  # days with a spend row, at least
MIN_LEVELS = 5  # distinct daily spend levels, each at least 1 % of the mean apart
MIN_CV = 0.10  # coefficient of variation of daily spend
RECENT_DAYS = 14  # "current spend" is the mean of the last this many days
DRAWS = 200  # bootstrap draws
STEPS = 400  # slices the budget is handed out in
GRID = 36  # scales tried before the golden-section search
_GOLDEN = (math.sqrt(5) - 1) / 2


@dataclass(frozen=True, slots=True)
class Curve:
    """y = base + a · (1 - e^(-x/b))."""

    a: float
    b: float
    base: float = 0.0

    def value(self, x: float) -> float:
        return self.base + self.a * -math.expm1(-x / self.b)

    def marginal(self, x: float) -> float:
        """The return of one more unit of spend at x."""
        return self.a / self.b * math.exp(-x / self.b)


@dataclass(frozen=True, slots=True)
class Fit:
    curve: Curve
    r2: float  # share of the outcome's variance the curve explains
    shape: str  # saturating, linear (no bend seen in the data's range) or flat


def _solve(
    gs: Sequence[float], ys: Sequence[float], ws: Sequence[float]
) -> tuple[float, float, float]:
    """(base, a, weighted squared error) of y ≈ base + a·g, with base, a ≥ 0."""
    sw = sum(ws)
    sg = sum(w * g for w, g in zip(ws, gs, strict=True))
    sy = sum(w * y for w, y in zip(ws, ys, strict=True))
    sgg = sum(w * g * g for w, g in zip(ws, gs, strict=True))
    sgy = sum(w * g * y for w, g, y in zip(ws, gs, ys, strict=True))
    syy = sum(w * y * y for w, y in zip(ws, ys, strict=True))
    det = sw * sgg - sg * sg
    candidates = []
    if det > 1e-12 * max(1.0, sw * sgg):
        a = (sw * sgy - sg * sy) / det
        c = (sy - a * sg) / sw
        if a >= 0 and c >= 0:
            candidates.append((c, a))
    if sgg > 0:
        candidates.append((0.0, max(0.0, sgy / sgg)))
    candidates.append((max(0.0, sy / sw), 0.0))
    best = (0.0, 0.0, math.inf)
    for c, a in candidates:
        # Σw(y - c - a·g)² expanded, so no second pass over the days is needed.
        sse = syy + c * c * sw + a * a * sgg - 2 * c * sy - 2 * a * sgy + 2 * c * a * sg
        if sse < best[2]:
            best = (c, a, sse)
    return best


def fit(xs: Sequence[float], ys: Sequence[float], ws: Sequence[float] | None = None) -> Fit:
    """The least-squares curve through the days (x spend, y outcome, w how often a day counts,
    1 unless a bootstrap drew it more than once). Needs some spend above zero."""
    weights = [1.0] * len(xs) if ws is None else list(ws)
    top = max(xs)
    if top <= 0:
        raise ValueError("no spend to fit a curve to")
    low, high = math.log(top / 100), math.log(top * 100)

    def error(log_b: float) -> tuple[float, float, float]:
        b = math.exp(log_b)
        return _solve([-math.expm1(-x / b) for x in xs], ys, weights)

    grid = [low + (high - low) * i / (GRID - 1) for i in range(GRID)]
    errors = [error(g)[2] for g in grid]
    i = min(range(GRID), key=errors.__getitem__)
    lo, hi = grid[max(0, i - 1)], grid[min(GRID - 1, i + 1)]
    m1, m2 = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    e1, e2 = error(m1)[2], error(m2)[2]
    for _ in range(20):  # the bracket shrinks to 0.618^20 of a grid step
        if e1 <= e2:
            hi, m2, e2 = m2, m1, e1
            m1 = hi - _GOLDEN * (hi - lo)
            e1 = error(m1)[2]
        else:
            lo, m1, e1 = m1, m2, e2
            m2 = lo + _GOLDEN * (hi - lo)
            e2 = error(m2)[2]
    log_b = (lo + hi) / 2
    c, a, sse = error(log_b)
    b = math.exp(log_b)
    sw = sum(weights)
    mean = sum(w * y for w, y in zip(weights, ys, strict=True)) / sw
    total = sum(w * (y - mean) ** 2 for w, y in zip(weights, ys, strict=True))
    r2 = 1 - sse / total if total > 0 else 0.0
    if a <= 0:
        shape = "flat"
    elif log_b >= high - (high - low) / GRID:
        shape = "linear"
    else:
        shape = "saturating"
    return Fit(Curve(a, b, c), r2, shape)


@dataclass(frozen=True, slots=True)
class Variation:
    days: int
    levels: int  # distinct daily spend levels
    cv: float  # coefficient of variation of daily spend
    reason: str | None  # why a curve cannot be trusted, or None

    @property
    def enough(self) -> bool:
        return self.reason is None


def variation(spends: Sequence[float]) -> Variation:
    """Whether the days vary enough in spend to show the curve's bend (MIN_DAYS, MIN_LEVELS,
    MIN_CV); a channel spending the same every day says nothing about more or less."""
    days = sum(1 for s in spends if s > 0)
    mean = statistics.fmean(spends) if spends else 0.0
    cv = statistics.pstdev(spends) / mean if days and mean > 0 else 0.0
    step = mean / 100 if mean > 0 else 1.0
    levels = len({round(s / step) for s in spends if s > 0})
    reason = None
    if mean <= 0:
        reason = "no spend in the period"
    elif days < MIN_DAYS:
        reason = f"{days} days with spend; at least {MIN_DAYS} are needed"
    elif levels < MIN_LEVELS:
        reason = f"{levels} distinct daily spend levels; at least {MIN_LEVELS} are needed"
    elif cv < MIN_CV:
        reason = (
            f"daily spend varies by {cv:.0%} (coefficient of variation); "
            f"at least {MIN_CV:.0%} is needed"
        )
    return Variation(days, levels, cv, reason)


def allocate(
    curves: Sequence[Curve],
    total: float,
    lower: Sequence[float],
    upper: Sequence[float],
    steps: int = STEPS,
) -> list[float]:
    """`total` split so each next slice goes where it returns most (equal marginal return),
    each channel kept within [lower, upper]. With falling marginal returns this is the best
    split, to within one slice; where that slice leaves it behind an even split of what is
    left, the even split is returned, so the advice never does worse than splitting evenly."""
    greedy = _greedy(curves, total, lower, upper, steps)
    left = min(total - sum(lower), sum(u - lo for u, lo in zip(upper, lower, strict=True)))
    if left <= 0 or not curves:
        return greedy
    even = [lo + left / len(curves) for lo in lower]
    if any(x > u for x, u in zip(even, upper, strict=True)):
        return greedy

    def returns(split: Sequence[float]) -> float:
        return sum(c.value(x) for c, x in zip(curves, split, strict=True))

    return even if returns(even) > returns(greedy) else greedy


def _greedy(
    curves: Sequence[Curve],
    total: float,
    lower: Sequence[float],
    upper: Sequence[float],
    steps: int,
) -> list[float]:
    spend = list(lower)
    left = total - sum(spend)
    if left <= 0:
        return spend
    room = sum(u - lo for u, lo in zip(upper, lower, strict=True))
    left = min(left, room)
    slice_ = left / steps
    heap = [(-c.marginal(s), i) for i, (c, s) in enumerate(zip(curves, spend, strict=True))]
    heapq.heapify(heap)
    while left > 1e-12 and heap:
        _, i = heapq.heappop(heap)
        give = min(slice_, left, upper[i] - spend[i])
        spend[i] += give
        left -= give
        if upper[i] - spend[i] > 1e-12:
            heapq.heappush(heap, (-curves[i].marginal(spend[i]), i))
    return spend


@dataclass(frozen=True, slots=True)
class Channel:
    """One channel's days, oldest first: spend and the outcome credited to it."""

    name: str
    spends: Sequence[float]
    outcomes: Sequence[float]


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Advice:
    name: str
    fit: Fit
    current: float  # mean daily spend of the last RECENT_DAYS days
    observed: Interval  # the lowest and highest daily spend seen
    marginal: float  # return of one more unit of spend at current spend
    marginal_interval: Interval
    suggested: float  # daily spend suggested (the same total)
    suggested_interval: Interval


@dataclass(frozen=True, slots=True)
class Suggestion:
    channels: list[Advice]
    total: float  # daily budget split (the current total)
    current_return: float  # expected outcome a day at current spend
    suggested_return: float  # expected outcome a day at the suggested spend
    gain_interval: Interval  # the suggestion's expected daily gain, bootstrap interval
    draws: int


def _quantiles(values: Sequence[float], level: float = 0.9) -> Interval:
    ordered = sorted(values)
    if not ordered:
        return Interval(math.nan, math.nan)
    last = len(ordered) - 1
    tail = (1 - level) / 2
    return Interval(ordered[round(tail * last)], ordered[round((1 - tail) * last)])


def suggest(channels: Sequence[Channel], *, draws: int = DRAWS, seed: int = 0) -> Suggestion:
    """Curves, marginal returns and a reallocation of today's total, with 90 % bootstrap
    intervals. Every channel covers the same days and has enough variation (checked by the
    caller with `variation`)."""
    days = len(channels[0].spends)
    if any(len(c.spends) != days or len(c.outcomes) != days for c in channels):
        raise ValueError("every channel needs the same days")
    fits = [fit(c.spends, c.outcomes) for c in channels]
    current = [statistics.fmean(c.spends[-RECENT_DAYS:]) for c in channels]
    positive = [[s for s in c.spends if s > 0] or [0.0] for c in channels]
    lower = [min(p) for p in positive]
    upper = [max(c.spends) for c in channels]
    current = [min(max(x, lo), hi) for x, lo, hi in zip(current, lower, upper, strict=True)]
    total = sum(current)
    curves = [f.curve for f in fits]
    suggested = allocate(curves, total, lower, upper)
    rng = random.Random(seed)
    marginals: list[list[float]] = [[] for _ in channels]
    spends: list[list[float]] = [[] for _ in channels]
    gains: list[float] = []
    for _ in range(draws):
        counts = [0.0] * days
        for _ in range(days):
            counts[rng.randrange(days)] += 1
        drawn = [fit(c.spends, c.outcomes, counts).curve for c in channels]
        split = allocate(drawn, total, lower, upper)
        for i, curve in enumerate(drawn):
            marginals[i].append(curve.marginal(current[i]))
            spends[i].append(split[i])
        gains.append(
            sum(c.value(s) - c.value(x) for c, s, x in zip(drawn, suggested, current, strict=True))
        )
    advice = [
        Advice(
            c.name,
            f,
            current[i],
            Interval(lower[i], upper[i]),
            f.curve.marginal(current[i]),
            _quantiles(marginals[i]),
            suggested[i],
            _quantiles(spends[i]),
        )
        for i, (c, f) in enumerate(zip(channels, fits, strict=True))
    ]
    return Suggestion(
        advice,
        total,
        sum(c.value(x) for c, x in zip(curves, current, strict=True)),
        sum(c.value(s) for c, s in zip(curves, suggested, strict=True)),
        _quantiles(gains),
        draws,
    )


def days_of(
    spend: Mapping[int, float], outcome: Mapping[int, float], days: range
) -> tuple[list[float], list[float]]:
    """A channel's daily (spend, outcome) over `days` (epoch days); a day without a cost row
    spent nothing."""
    return [spend.get(d, 0.0) for d in days], [outcome.get(d, 0.0) for d in days]
