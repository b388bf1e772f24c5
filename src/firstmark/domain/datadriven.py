"""Data-driven attribution: how much each group (channel, campaign, …) adds, learned from
converting and non-converting paths alike (docs/attribution.md; ADR 0040).

The default method is a first-order Markov chain: the states are the groups, plus start,
conversion and null (left without converting); the transition probabilities are counted from
the paths, consecutive repeats of a group being one step. A group's **removal effect** is the
share of the chain's conversion probability that is lost when the group is removed (every
move into it goes to null instead). The option `shapley` values a set of groups by the
conversion rate of the paths made only of them, and gives each group its Shapley value.

Either way the numbers are weights, not credits: each conversion is shared among the distinct
groups on its own path in proportion to their weights (equal parts when all are zero), so a
group gets credit only from journeys it was part of, and the credits add up to exactly the
conversions and their value, as in the rule-based models (domain/attribution.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import mul
from typing import Any

from firstmark.domain.attribution import MODELS, Tally, split_units
from firstmark.domain.paths import Key, PathData, collapse
from firstmark.domain.reports import CENTS, key_json
from firstmark.errors import InvalidField

NAME = "data_driven"  # the model's name beside the five of domain/attribution.py
ALL_MODELS = (*MODELS, NAME)
MARKOV, SHAPLEY = "markov", "shapley"
METHODS = (MARKOV, SHAPLEY)
MINIMUM = 100  # converting paths below which the model says so instead of guessing
SHAPLEY_MAX = 12  # 2^12 coalitions; beyond, the Markov chain answers
DENSE_MAX = 400  # groups up to which all removal effects come from one matrix inverse
SCALE = 2**40  # weights as whole numbers, so each conversion splits exactly
_SWEEPS = 10_000
_TOLERANCE = 1e-13


@dataclass(frozen=True)
class Model:
    method: str
    journeys: int  # paths learned from, converting or not
    converting: int  # of them, conversions
    weights: dict[Key, float]  # removal effects (markov) or Shapley values, by group
    credits: dict[Key, Tally] | None  # None below the minimum
    note: str | None  # why there are no credits, in words

    def weight(self, key: Key) -> float | None:
        return self.weights.get(key) if self.credits is not None else None


def method(raw: str | None) -> str:
    """The `data_driven` option from user input (Markov by default)."""
    if raw is None or raw.strip() == "":
        return MARKOV
    if raw not in METHODS:
        raise InvalidField("data_driven", f"data_driven must be one of {', '.join(METHODS)}")
    return raw


def learn(
    data: PathData,
    how: str = MARKOV,
    *,
    minimum: int = MINIMUM,
    weights: dict[Key, float] | None = None,
) -> Model:
    """The model of `how` over the paths, and each group's credits under it; `weights`
    computed already (removal effects worked out a slice at a time, say) are used as given."""
    converting, journeys = data.conversions, data.journeys
    if how == SHAPLEY:
        groups = _groups(data)
        if len(groups) > SHAPLEY_MAX:
            raise InvalidField(
                "data_driven",
                f"Shapley values take {SHAPLEY_MAX} groups at most and these paths have "
                f"{len(groups)}; group by fewer values (channel, say) or use markov",
            )
    if converting < minimum:
        note = (
            f"Data-driven attribution needs at least {minimum} converting journeys in the "
            f"range and there are {converting}; widen the date range."
        )
        return Model(how, journeys, converting, {}, None, note)
    if weights is None:
        weights = shapley_values(data) if how == SHAPLEY else removal_effects(data)
    return Model(how, journeys, converting, weights, allocate(data, weights), None)


def _groups(data: PathData) -> list[Key]:
    seen: set[Key] = set()
    for c in data.converting:
        seen.update(c.steps)
    for lost in data.lost:
        seen.update(lost.steps)
    return sorted(seen, key=repr)


# --- Markov chain ------------------------------------------------------------------------


@dataclass(frozen=True)
class Chain:
    """Transition probabilities between states 0 (start) and 1…n (the groups), with each
    state's probability to convert next; whatever is left goes to null."""

    groups: list[Key]
    moves: list[list[tuple[int, float]]]  # state → [(next state, probability)]
    convert: list[float]  # state → probability that the next step is the conversion
    order: list[int]  # states, latest in a path first: one sweep solves a chain without loops
    # The sweep's rows, in `order`: (state, P(convert next), next states, their probabilities)
    # as separate lists, so the sum of products runs in C (map).
    rows: list[tuple[int, float, list[int], list[float]]]


def chain(data: PathData) -> Chain:
    index: dict[Key, int] = {}
    counts: dict[tuple[int, int], int] = {}
    outs: dict[int, int] = {}
    converts: dict[int, int] = {}
    position: dict[int, float] = {}

    def walk(steps: tuple[Key, ...], weight: int, converted: bool) -> None:
        prev = 0
        for at, step in enumerate(collapse(steps), start=1):
            state = index.setdefault(step, len(index) + 1)
            counts[prev, state] = counts.get((prev, state), 0) + weight
            outs[prev] = outs.get(prev, 0) + weight
            position[state] = position.get(state, 0.0) + at * weight
            prev = state
        outs[prev] = outs.get(prev, 0) + weight
        if converted:
            converts[prev] = converts.get(prev, 0) + weight

    for c in data.converting:
        walk(c.steps, c.conversions, True)
    for lost in data.lost:
        walk(lost.steps, lost.journeys, False)
    n = len(index) + 1
    moves: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for (a, b), count in counts.items():
        moves[a].append((b, count / outs[a]))
    convert = [converts.get(s, 0) / outs[s] if outs.get(s) else 0.0 for s in range(n)]
    visits = {s: sum(w for (_, b), w in counts.items() if b == s) for s in range(1, n)}
    order = [*sorted(range(1, n), key=lambda s: -position[s] / visits[s]), 0]
    groups = [k for k, _ in sorted(index.items(), key=lambda kv: kv[1])]
    rows = [(s, convert[s], [t for t, _ in moves[s]], [q for _, q in moves[s]]) for s in order]
    return Chain(groups, moves, convert, order, rows)


def solve(
    c: Chain, removed: int | None = None, guess: Sequence[float] | None = None
) -> list[float]:
    """Each state's probability to end in a conversion (Gauss-Seidel sweeps); a `removed`
    state never converts."""
    p = list(guess) if guess is not None else [0.0] * len(c.convert)
    if removed is not None:
        p[removed] = 0.0
    rows = c.rows if removed is None else [r for r in c.rows if r[0] != removed]
    at = p.__getitem__
    for _ in range(_SWEEPS):
        delta = 0.0
        for s, convert, targets, probs in rows:
            value = convert + sum(map(mul, probs, map(at, targets)))
            change = abs(value - p[s])
            if change > delta:
                delta = change
            p[s] = value
        if delta < _TOLERANCE:
            break
    return p


def removal_effect(c: Chain, state: int, full: Sequence[float]) -> float:
    """1 - P(conversion without the group of `state`) / P(conversion); `full` is solve(c)."""
    if full[0] <= 0:
        return 0.0
    return max(0.0, 1.0 - solve(c, state, full)[0] / full[0])


def removal_effects(data: PathData) -> dict[Key, float]:
    """Each group's removal effect (one solve per group)."""
    c = chain(data)
    full = solve(c)
    return {g: removal_effect(c, s, full) for s, g in enumerate(c.groups, start=1)}


def fundamental(c: Chain) -> Iterator[list[list[float]] | None]:
    """N = (I - Q)^-1 over the states, Q the moves between them, by Gauss-Jordan elimination:
    yields None after each pivot (a turn for the event loop), then N. N[0][s] / N[s][s] is
    the probability that a journey ever reaches s, so every removal effect follows from one
    inverse: n^3 steps instead of a series of sweeps per group, far less with hundreds of
    groups. I - Q is diagonally dominant (Q is substochastic), so no pivoting is needed."""
    n = len(c.convert)
    rows = []
    for s in range(n):
        row = [0.0] * (2 * n)
        row[s] = row[n + s] = 1.0
        for t, q in c.moves[s]:
            row[t] -= q
        rows.append(row)
    for k in range(n):
        pivot = rows[k]
        scale = 1.0 / pivot[k]
        pivot = rows[k] = [x * scale for x in pivot]
        for i in range(n):
            factor = rows[i][k]
            if i != k and factor:
                rows[i] = [x - factor * y for x, y in zip(rows[i], pivot, strict=True)]
        yield None
    yield [row[n:] for row in rows]


def effects_from(c: Chain, inverse: list[list[float]], full: Sequence[float]) -> dict[Key, float]:
    """Every removal effect from the fundamental matrix: without s, the conversions lost are
    those of journeys that reach s: P(reach s) times P(convert from s)."""
    if full[0] <= 0:
        return {g: 0.0 for g in c.groups}
    return {
        g: min(1.0, max(0.0, inverse[0][s] / inverse[s][s] * full[s] / full[0]))
        for s, g in enumerate(c.groups, start=1)
    }


# --- Shapley values ----------------------------------------------------------------------


def shapley_values(data: PathData) -> dict[Key, float]:
    """Each group's Shapley value when a set of groups is worth the conversion rate of the
    paths made only of groups in it."""
    groups = _groups(data)
    n = len(groups)
    bit = {g: 1 << i for i, g in enumerate(groups)}
    size = 1 << n
    paths, wins = [0] * size, [0] * size
    for c in data.converting:
        mask = _mask(c.steps, bit)
        paths[mask] += c.conversions
        wins[mask] += c.conversions
    for lost in data.lost:
        paths[_mask(lost.steps, bit)] += lost.journeys
    for i in range(n):  # sums over every subset of each set
        b = 1 << i
        for mask in range(size):
            if mask & b:
                paths[mask] += paths[mask ^ b]
                wins[mask] += wins[mask ^ b]
    value = [wins[m] / paths[m] if paths[m] else 0.0 for m in range(size)]
    factor = [math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)]
    out: dict[Key, float] = {}
    for i, group in enumerate(groups):
        b, total = 1 << i, 0.0
        for mask in range(size):
            if not mask & b:
                total += factor[mask.bit_count()] * (value[mask | b] - value[mask])
        out[group] = total
    return out


def _mask(steps: tuple[Key, ...], bit: dict[Key, int]) -> int:
    mask = 0
    for step in steps:
        mask |= bit[step]
    return mask


# --- credits -----------------------------------------------------------------------------


def allocate(data: PathData, weights: dict[Key, float]) -> dict[Key, Tally]:
    """Each conversion shared among the distinct groups on its path by their weights (negative
    ones count as none; all none: equal parts), its value in whole cents that add up exactly."""
    sets: dict[tuple[Key, ...], list[int]] = {}
    for c in data.converting:
        members = tuple(dict.fromkeys(c.steps))
        found = sets.setdefault(members, [0, 0])
        found[0] += c.conversions
        found[1] += c.units
    out: dict[Key, Tally] = {}
    for members, (conversions, units) in sets.items():
        if not members:
            continue
        nums = [max(0, round(weights.get(g, 0.0) * SCALE)) for g in members]
        den = sum(nums)
        if den == 0:
            nums, den = [1] * len(members), len(members)
        for group, num, part in zip(members, nums, split_units(units, nums, den), strict=True):
            tally = out.get(group) or out.setdefault(group, Tally(0.0, 0))
            tally.conversions += conversions * num / den
            tally.units += part
    return out


# --- the report --------------------------------------------------------------------------


def columns(entries: list[dict[str, Any]], dims: Sequence[str], model: Model) -> None:
    """Add the model's cells to the attribution report's rows (keyed as key_json makes them):
    conversions, revenue and the group's weight, or nulls when the model has no credits. A
    group the model credits and the rows lack gets a row of its own."""
    rows = {tuple(e[d] for d in dims): e for e in entries}
    groups = {
        tuple(key_json(dims, k).values()): k for k in (*model.weights, *(model.credits or {}))
    }
    for shown, key in groups.items():
        if model.credits is not None and key in model.credits and shown not in rows:
            entry: dict[str, Any] = dict(zip(dims, shown, strict=True))
            entry.update({name: {"conversions": 0.0, "revenue": "0.00"} for name in MODELS})
            entries.append(entry)
            rows[shown] = entry
    for shown, entry in rows.items():
        if model.credits is None:
            entry[NAME] = {"conversions": None, "revenue": None, "weight": None}
            continue
        group = groups.get(shown)
        tally = model.credits.get(group) if group is not None else None
        entry[NAME] = {
            "conversions": round(tally.conversions, 6) if tally else 0.0,
            "revenue": str(tally.value(CENTS) if tally else Decimal("0.00")),
            "weight": round(model.weights.get(group, 0.0), 6) if group is not None else 0.0,
        }


def summary(model: Model) -> dict[str, Any]:
    """What the report says of the model: its method and the paths it learned from."""
    return {
        "method": model.method,
        "paths": model.journeys,
        "converting_paths": model.converting,
        "minimum_converting_paths": MINIMUM,
    }
