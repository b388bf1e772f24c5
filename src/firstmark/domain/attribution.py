"""Attribution: how much of a conversion each touch of its journey earned (DESIGN §8).

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

from firstmark.domain.events import Touch
from firstmark.errors import InvalidField

MODELS = ("first_touch", "last_non_direct", "linear", "time_decay", "position_based")
DAY = 86_400
DEFAULT_HALF_LIFE_DAYS = 7.0
DIRECT = "(direct)"
NONE = "(none)"


def channel(touch: Touch) -> tuple[str, str]:
    """(source, medium) as reports group a touch; direct visits read "(direct) / (none)"."""
    if touch.direct:
        return DIRECT, NONE
    return touch.utm_source or NONE, touch.utm_medium or NONE


@dataclass(frozen=True, slots=True)
class Credit:
    touch: Touch
    share: Fraction
    value: Decimal


def journey(touches: Iterable[Touch], converted_at: float, window_days: int) -> list[Touch]:
    """The touches that may share a conversion: inside the window, not after it, oldest first."""
    start = converted_at - window_days * DAY
    return sorted((t for t in touches if start <= t.ts <= converted_at), key=lambda t: t.ts)


def last_non_direct(
    touches: Iterable[Touch], converted_at: float, window_days: int
) -> Touch | None:
    """The touch the last-non-direct model credits in full; None without any touch."""
    path = journey(touches, converted_at, window_days)
    if not path:
        return None
    return path[shares("last_non_direct", path, converted_at).index(Fraction(1))]


def shares(
    model: str,
    path: Sequence[Touch],
    converted_at: float,
    *,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> list[Fraction]:
    """Each touch's share of one conversion, in `path` order; empty for an empty path."""
    n = len(path)
    if n == 0:
        return []
    if model == "first_touch":
        return [Fraction(1 if i == 0 else 0) for i in range(n)]
    if model == "last_non_direct":
        chosen = next((i for i in range(n - 1, -1, -1) if not path[i].direct), n - 1)
        return [Fraction(1 if i == chosen else 0) for i in range(n)]
    if model == "linear":
        return [Fraction(1, n)] * n
    if model == "position_based":
        if n <= 2:
            return [Fraction(1, n)] * n
        middle = Fraction(1, 5) / (n - 2)
        return [Fraction(2, 5), *([middle] * (n - 2)), Fraction(2, 5)]
    if model == "time_decay":
        if not half_life_days > 0 or math.isinf(half_life_days):
            raise InvalidField("half_life_days", "half_life_days must be a positive number")
        half_life = half_life_days * DAY
        weights = [Fraction(2.0 ** (-max(0.0, converted_at - t.ts) / half_life)) for t in path]
        total = sum(weights, Fraction(0))
        if total == 0:  # every weight underflowed: the latest touch is the only one left
            return [Fraction(1 if i == n - 1 else 0) for i in range(n)]
        return [w / total for w in weights]
    raise InvalidField("model", f"model must be one of {', '.join(MODELS)}")


def split_value(value: Decimal, parts: Sequence[Fraction], quantum: Decimal) -> list[Decimal]:
    """`value` split by `parts` (which sum to 1) in whole units of `quantum`; the rounded parts
    sum to exactly `value` (rounded to `quantum`). Leftover units go to the largest remainders,
    earlier parts first on ties."""
    if not parts:
        return []
    units = int((value / quantum).to_integral_value())
    sign, units = (-1 if units < 0 else 1), abs(units)
    exact = [units * p for p in parts]
    floors = [math.floor(x) for x in exact]
    left = units - sum(floors)
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * f * quantum for f in floors]


def attribute(
    model: str,
    path: Sequence[Touch],
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
    path: Sequence[Touch]


@dataclass(slots=True)
class Tally:
    conversions: Fraction
    value: Decimal


def compare(
    conversions: Iterable[Conversion],
    *,
    models: Sequence[str] = MODELS,
    key: Callable[[Touch], Hashable] = channel,
    quantum: Decimal = Decimal("0.01"),
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> dict[Hashable, dict[str, Tally]]:
    """Conversions and value credited to each `key` (a channel by default) under each model,
    side by side. A conversion without any touch counts as direct under every model, so each
    model's column sums to the same totals."""
    out: dict[Hashable, dict[str, Tally]] = {}
    for conversion in conversions:
        path = conversion.path or [Touch(conversion.ts)]
        for model in models:
            credits = attribute(
                model, path, conversion.ts, conversion.value,
                quantum=quantum, half_life_days=half_life_days,
            )  # fmt: skip
            for credit in credits:
                row = out.setdefault(key(credit.touch), {})
                tally = row.get(model)
                if tally is None:
                    row[model] = Tally(credit.share, credit.value)
                else:
                    tally.conversions += credit.share
                    tally.value += credit.value
    return out
