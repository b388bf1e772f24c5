"""Attribution: how much of a conversion each touch of its journey earned (the five models
of docs/api.md, Reports).

A journey is the touches of one visitor (or one click token) inside the goal's window before the
conversion, oldest first. Five models share it out:

- first_touch: all to the first touch;
- last_non_direct: all to the last touch that came through a channel (all direct: the last);
- linear: equal parts;
- time_decay: a touch's weight halves every `half_life_days` before the conversion;
- position_based: 40 % first, 40 % last, 20 % shared by the touches between (one touch: 100 %,
  two: 50/50).

Shares are exact fractions, so every conversion's shares sum to exactly 1 (time-decay weights
are binary floats, each an exact fraction too). Values are split in whole units of `quantum`
(cents by default) by the largest-remainder method, so the parts sum to exactly the value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple, Protocol, TypeVar

from firstmark.errors import InvalidField

MODELS = ("first_touch", "last_non_direct", "linear", "time_decay", "position_based")
DAY = 86_400
DEFAULT_HALF_LIFE_DAYS = 7.0
DIRECT = "(direct)"
NONE = "(none)"


class Visit(Protocol):
    """What attribution reads of a touch (a stored `events.Touch`, or a report's `Step`)."""

    @property
    def ts(self) -> float: ...
    @property
    def direct(self) -> bool: ...
    @property
    def link_id(self) -> int | None: ...
    @property
    def utm_source(self) -> str | None: ...
    @property
    def utm_medium(self) -> str | None: ...
    @property
    def utm_campaign(self) -> str | None: ...
    @property
    def utm_content(self) -> str | None: ...


class Step(NamedTuple):
    """A touch as reports load it: only what attribution and grouping need, cheap to build."""

    ts: float
    direct: bool
    link_id: int | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_content: str | None = None


V = TypeVar("V", bound=Visit)


def channel(touch: Visit) -> tuple[str, str]:
    """(source, medium) as reports group a touch; direct visits read "(direct) / (none)"."""
    if touch.direct:
        return DIRECT, NONE
    return touch.utm_source or NONE, touch.utm_medium or NONE


@dataclass(frozen=True, slots=True)
class Credit:
    touch: Visit
    share: Fraction
    value: Decimal


def journey(touches: Iterable[V], converted_at: float, window_days: int) -> list[V]:
    """The touches that may share a conversion: inside the window, not after it, oldest first."""
    start = converted_at - window_days * DAY
    return sorted((t for t in touches if start <= t.ts <= converted_at), key=lambda t: t.ts)


def last_non_direct(touches: Iterable[V], converted_at: float, window_days: int) -> V | None:
    """The touch the last-non-direct model credits in full; None without any touch."""
    path = journey(touches, converted_at, window_days)
    if not path:
        return None
    return path[shares("last_non_direct", path, converted_at).index(Fraction(1))]


def weights(
    model: str,
    path: Sequence[Visit],
    converted_at: float,
    *,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> tuple[list[int], int]:
    """Each touch's share as whole numbers over one denominator (numerators sum to it exactly),
    in `path` order: exact like fractions, at the speed of integers."""
    n = len(path)
    if model not in MODELS:
        raise InvalidField("model", f"model must be one of {', '.join(MODELS)}")
    if model == "time_decay" and (not half_life_days > 0 or math.isinf(half_life_days)):
        raise InvalidField("half_life_days", "half_life_days must be a positive number")
    if n <= 1:
        return [1] * n, 1
    if model == "first_touch":
        return [1] + [0] * (n - 1), 1
    if model == "last_non_direct":
        chosen = next((i for i in range(n - 1, -1, -1) if not path[i].direct), n - 1)
        return [1 if i == chosen else 0 for i in range(n)], 1
    if model == "linear" or (model == "position_based" and n == 2):
        return [1] * n, n
    if model == "position_based":  # 40 % + 20 % shared by the n - 2 between + 40 %
        return [2 * (n - 2), *([1] * (n - 2)), 2 * (n - 2)], 5 * (n - 2)
    # time_decay: 2^-(age / half-life), in units of 2^-52 of the newest possible weight.
    half_life = half_life_days * DAY
    nums = [round(2.0 ** (52 - max(0.0, converted_at - t.ts) / half_life)) for t in path]
    total = sum(nums)
    if total == 0:  # every weight underflowed: the latest touch is the only one left
        return [0] * (n - 1) + [1], 1
    return nums, total


def shares(
    model: str,
    path: Sequence[Visit],
    converted_at: float,
    *,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> list[Fraction]:
    """Each touch's share of one conversion, in `path` order; empty for an empty path."""
    nums, den = weights(model, path, converted_at, half_life_days=half_life_days)
    return [Fraction(num, den) for num in nums]


def split_units(units: int, nums: Sequence[int], den: int) -> list[int]:
    """`units` split as nums/den (nums sum to den) in whole units that sum to `units`; leftover
    units go to the largest remainders, earlier parts first on ties."""
    sign, units = (-1 if units < 0 else 1), abs(units)
    if den == 1:
        return [sign * units * num for num in nums]
    parts = [divmod(units * num, den) for num in nums]
    out = [whole for whole, _ in parts]
    left = units - sum(out)
    if left:
        order = sorted(range(len(parts)), key=lambda i: (-parts[i][1], i))
        for i in order[:left]:
            out[i] += 1
    return [sign * o for o in out] if sign < 0 else out


def split_value(value: Decimal, parts: Sequence[Fraction], quantum: Decimal) -> list[Decimal]:
    """`value` split by `parts` (which sum to 1) in whole units of `quantum`; the rounded parts
    sum to exactly `value` (rounded to `quantum`)."""
    if not parts:
        return []
    den = math.lcm(*(p.denominator for p in parts))
    nums = [p.numerator * (den // p.denominator) for p in parts]
    units = int((value / quantum).to_integral_value())
    return [u * quantum for u in split_units(units, nums, den)]


def attribute(
    model: str,
    path: Sequence[Visit],
    converted_at: float,
    value: Decimal,
    *,
    quantum: Decimal = Decimal("0.01"),
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> list[Credit]:
    """The credits of one conversion under one model (touches with no share are left out)."""
    parts = shares(model, path, converted_at, half_life_days=half_life_days)
    values = split_value(value, parts, quantum)
    return [
        Credit(touch, share, amount)
        for touch, share, amount in zip(path, parts, values, strict=True)
        if share
    ]


@dataclass(frozen=True, slots=True)
class Conversion:
    """A conversion with its journey, ready to be shared out."""

    ts: float
    value: Decimal
    path: Sequence[Visit]


@dataclass(slots=True)
class Tally:
    conversions: float  # credited conversions, each conversion's shares summing to exactly 1
    units: int  # credited value in whole units of the quantum, exact

    def value(self, quantum: Decimal) -> Decimal:
        return self.units * quantum


def compare(
    conversions: Iterable[Conversion],
    *,
    models: Sequence[str] = MODELS,
    key: Callable[[Visit], Hashable] = channel,
    quantum: Decimal = Decimal("0.01"),
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> dict[Hashable, dict[str, Tally]]:
    """Conversions and value credited to each `key` (a channel by default) under each model,
    side by side. A conversion without any touch counts as direct under every model, so each
    model's column sums to the same totals. Integer arithmetic throughout: this runs over every
    conversion of a report."""
    for model in models:  # refuse a bad model or half-life even if no journey needs it
        weights(model, (), 0.0, half_life_days=half_life_days)
    # Flat sums keyed by (row key, model): two dict updates per credit, no objects until the end.
    credits: dict[tuple[Hashable, str], float] = {}
    totals: dict[tuple[Hashable, str], int] = {}
    get_credit, get_total = credits.get, totals.get
    scale = 1 / quantum
    for conversion in conversions:
        path = conversion.path or [Step(conversion.ts, True)]
        n = len(path)
        units = int((conversion.value * scale).to_integral_value())
        if n == 1:  # one touch (the usual case): every model gives it everything
            k = key(path[0])
            for model in models:
                kk = (k, model)
                credits[kk] = get_credit(kk, 0.0) + 1.0
                totals[kk] = get_total(kk, 0) + units
            continue
        keys = [key(t) for t in path]
        for model in models:
            if model == "first_touch" or model == "last_non_direct":
                if model == "first_touch":
                    chosen = 0
                else:
                    chosen = next((i for i in range(n - 1, -1, -1) if not path[i].direct), n - 1)
                kk = (keys[chosen], model)
                credits[kk] = get_credit(kk, 0.0) + 1.0
                totals[kk] = get_total(kk, 0) + units
                continue
            nums, den = weights(model, path, conversion.ts, half_life_days=half_life_days)
            for k, num, part in zip(keys, nums, split_units(units, nums, den), strict=True):
                if num:
                    kk = (k, model)
                    credits[kk] = get_credit(kk, 0.0) + num / den
                    totals[kk] = get_total(kk, 0) + part
    out: dict[Hashable, dict[str, Tally]] = {}
    for (k, model), credit in credits.items():
        out.setdefault(k, {})[model] = Tally(credit, totals[(k, model)])
    return out


# A conversion's credits, as stored for reports: (model, step, link_id, source, medium,
# campaign, content, day, share, units). Source and medium of a direct touch read
# "(direct)" / "(none)", as report rows group it.
CreditRow = tuple[str, int, int | None, str | None, str | None, str | None, str | None, int,
                  float, int]  # fmt: skip


def credit_rows(
    conversion: Conversion,
    *,
    models: Sequence[str] = MODELS,
    quantum: Decimal = Decimal("0.01"),
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> list[CreditRow]:
    """What `compare` adds up for one conversion, row by row, so it can be stored once and
    summed by SQL later. Same shares, same cents. This runs for every conversion a bulk
    import brings: each touch's columns are built once, and the models that give one touch
    everything skip the arithmetic."""
    path = conversion.path or [Step(conversion.ts, True)]
    units = int((conversion.value / quantum).to_integral_value())
    touches = [
        (index, touch.link_id, *((DIRECT, NONE) if touch.direct
                                 else (touch.utm_source, touch.utm_medium)),
         touch.utm_campaign, touch.utm_content, int(touch.ts // DAY))
        for index, touch in enumerate(path)
    ]  # fmt: skip
    n = len(path)
    out: list[CreditRow] = []
    for model in models:
        if n == 1 or model == "first_touch" or model == "last_non_direct":
            weights(model, (), 0.0, half_life_days=half_life_days)  # refuse a bad model
            chosen = 0  # the first touch (and, in a path of one, every model's)
            if model == "last_non_direct":
                chosen = next((i for i in range(n - 1, -1, -1) if not path[i].direct), n - 1)
            out.append((model, *touches[chosen], 1.0, units))
            continue
        nums, den = weights(model, path, conversion.ts, half_life_days=half_life_days)
        parts = split_units(units, nums, den)
        for touch, num, part in zip(touches, nums, parts, strict=True):
            if num:
                out.append((model, *touch, num / den, part))
    return out
