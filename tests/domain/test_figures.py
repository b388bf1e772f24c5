"""How report figures read: money with its currency's symbol, ROAS, percentages, and the
change from the previous period with whether it is good news."""

from __future__ import annotations

from decimal import Decimal

import pytest

from firstmark.domain.figures import TIMES, Better, Change, change, changes, money, percent, roas


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (Decimal("3842.62"), "EUR", "€3,842.62"),
        (Decimal("0.45"), "USD", "$0.45"),
        (Decimal("12"), "GBP", "£12.00"),
        (Decimal("1500"), "JPY", "¥1,500.00"),
        (Decimal("10"), "CNY", "CN¥10.00"),
        (Decimal("1234.5"), "CHF", "1,234.50 CHF"),  # no symbol everyone reads: the code
        (Decimal("-5.1"), "EUR", "-€5.10"),
        (Decimal("0.004"), "EUR", "€0.004"),  # a fraction of a cent is not rounded away
        (Decimal("99.99"), None, "99.99"),
        (7, "EUR", "€7.00"),
        (None, "EUR", "—"),
    ],
)
def test_money(value: Decimal | int | None, currency: str | None, text: str) -> None:
    assert money(value, currency) == text


def test_roas_has_two_decimals_and_percent_two() -> None:
    assert roas(Decimal("3.2651")) == f"3.27{TIMES}"
    assert roas(Decimal("10.9704")) == f"10.97{TIMES}"
    assert roas(Decimal("1234.5")) == f"1,234.50{TIMES}"
    assert roas(None) == "—"
    assert percent(Decimal("997.04")) == "997.04 %"
    assert percent(Decimal("-100")) == "-100.00 %"
    assert percent(None) == "—"


@pytest.mark.parametrize(
    ("now", "before", "better", "arrow", "text", "tone"),
    [
        (120, 100, "up", "▲", "20.0 %", "good"),
        (80, 100, "up", "▼", "20.0 %", "bad"),
        (Decimal("12.81"), Decimal("10"), "down", "▲", "28.1 %", "bad"),  # CPA up is bad
        (Decimal("5"), Decimal("10"), "down", "▼", "50.0 %", "good"),
        (150, 100, "neither", "▲", "50.0 %", "neutral"),  # spend: a decision, not a result
        (100, 100, "up", "", "0.0 %", "neutral"),
        (5, 0, "up", "", "—", "neutral"),  # nothing to compare with
        (5, None, "up", "", "—", "neutral"),
        (None, 10, "down", "", "—", "neutral"),  # a CPA without conversions now
        (-50, -100, "up", "▲", "50.0 %", "good"),  # a loss halved (ROI) is better
    ],
)
def test_change(
    now: Decimal | int | None,
    before: Decimal | int | None,
    better: Better,
    arrow: str,
    text: str,
    tone: str,
) -> None:
    moved = change(now, before, better)
    assert (moved.arrow, moved.text, moved.tone) == (arrow, text, tone)


def test_change_words_for_screen_readers() -> None:
    assert change(2, 1).words == "up" and change(1, 2).words == "down"
    assert change(1, 1).words == "unchanged" and change(1, 0).words == "no previous value"


def test_changes_judges_each_figure_by_its_own_direction() -> None:
    found = changes(
        {"revenue": Decimal("110"), "cpa": Decimal("11"), "spend": Decimal("110"), "roas": None},
        {"revenue": Decimal("100"), "cpa": Decimal("10"), "spend": Decimal("100"), "roas": 2},
    )
    assert found["revenue"] == Change(Decimal("10.0"), "good")
    assert found["cpa"] == Change(Decimal("10.0"), "bad")
    assert found["spend"] == Change(Decimal("10.0"), "neutral")
    assert found["roas"].text == "—"
    assert all(c.text == "—" for c in changes({"clicks": 3}, None).values())
