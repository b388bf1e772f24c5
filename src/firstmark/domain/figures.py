"""How a report's numbers read on screen: money with its currency's symbol, ROAS to two
decimals, percentages, and the change from the previous period.

Everything here turns a value into text and nothing else: the sums and ratios are
domain/kpis.py's. A value with nothing behind it (None) reads "—" wherever it appears.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from firstmark.domain.kpis import NO_VALUE
from firstmark.domain.money import tidy

# Symbols people read without thinking; any other currency is written as its ISO code.
# CNY shares ¥ with JPY, so it keeps a prefix that tells them apart.
SYMBOLS = {
    "EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "INR": "₹", "KRW": "₩",
    "ILS": "₪", "NGN": "₦", "PHP": "₱", "THB": "฿", "TRY": "₺", "UAH": "₴", "VND": "₫",
}  # fmt: skip

TIMES = "\u00d7"  # the multiplication sign, as in "3.27 times"
Number = Decimal | int | float
Better = Literal["up", "down", "neither"]
Tone = Literal["good", "bad", "neutral"]

# Which way each figure should go. Cost per result going up is bad news; spend going up is
# neither (it is a decision, not a result).
BETTER: dict[str, Better] = {
    "spend": "neither",
    "cpc": "down",
    "cpa": "down",
    "cost_per_call": "down",
    "bounce_rate": "down",
    "bots": "down",
    "impressions": "neither",
}


def _grouped(value: Decimal) -> str:
    return f"{value:,}"


def money(value: Number | None, currency: str | None) -> str:
    """An amount with its currency: "€1,234.50", "$0.45", "1,234.50 CHF"; a bare amount
    when the currency is not known."""
    if value is None:
        return NO_VALUE
    amount = tidy(Decimal(str(value)) if isinstance(value, float) else Decimal(value))
    sign, digits = ("-", -amount) if amount < 0 else ("", amount)
    text = _grouped(digits)
    if not currency:
        return f"{sign}{text}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def roas(value: Number | None) -> str:
    """Return on ad spend as a multiple to two decimals: "3.27" and the sign for times."""
    if value is None:
        return NO_VALUE
    return f"{_grouped(Decimal(value).quantize(Decimal('0.01'), ROUND_HALF_EVEN))}{TIMES}"


def percent(value: Number | None) -> str:
    """A percentage as stored (two decimals): "7.37 %"."""
    if value is None:
        return NO_VALUE
    return f"{_grouped(Decimal(value).quantize(Decimal('0.01'), ROUND_HALF_EVEN))} %"


@dataclass(frozen=True, slots=True)
class Change:
    """How a figure moved since the previous period of the same length."""

    percent: Decimal | None  # None: nothing to compare with (previous 0 or missing)
    tone: Tone

    @property
    def arrow(self) -> str:
        if self.percent is None or self.percent == 0:
            return ""
        return "▲" if self.percent > 0 else "▼"

    @property
    def words(self) -> str:
        """The direction for a screen reader, which would read the arrow as a shape."""
        if self.percent is None:
            return "no previous value"
        return "up" if self.percent > 0 else "down" if self.percent < 0 else "unchanged"

    @property
    def text(self) -> str:
        """ "12.5 %" (the arrow goes beside it), or "—" with nothing to compare with."""
        if self.percent is None:
            return NO_VALUE
        return f"{_grouped(abs(self.percent))} %"


def change(current: Number | None, previous: Number | None, better: Better = "up") -> Change:
    """The change from `previous` to `current` in percent (one decimal), and whether it is
    good news. A previous value of 0 or None has no percentage to give; neither has a
    current one of None (a CPA without conversions)."""
    if current is None or previous is None or previous == 0:
        return Change(None, "neutral")
    now, before = Decimal(str(current)), Decimal(str(previous))
    moved = ((now - before) * 100 / abs(before)).quantize(Decimal("0.1"), ROUND_HALF_EVEN)
    if moved == 0 or better == "neither":
        return Change(moved, "neutral")
    return Change(moved, "good" if (moved > 0) == (better == "up") else "bad")


def changes(
    current: Mapping[str, Number | None], previous: Mapping[str, Number | None] | None
) -> dict[str, Change]:
    """The change of every figure of `current`, each judged by which way it should go."""
    before = previous or {}
    return {k: change(v, before.get(k), BETTER.get(k, "up")) for k, v in current.items()}
