"""The report tables' columns: money first by default, the reader's choice from ?cols=,
and how each cell reads with its change since the previous period."""

from __future__ import annotations

from decimal import Decimal

from firstmark.domain.figures import TIMES
from firstmark.domain.kpis import kpis
from firstmark.domain.reports import ReportRow
from firstmark.web.dashboard import columns


def _row(spend: str | None, revenue: str, conversions: int, calls: int | None = None) -> ReportRow:
    row = ReportRow(
        key=("spring",), uniques=100, clicks=120, spend=None if spend is None else Decimal(spend),
        revenue=Decimal(revenue), conversions=Decimal(conversions), calls=calls,
    )  # fmt: skip
    row.kpis = kpis(row.totals())
    return row


def test_the_default_puts_money_first() -> None:
    chosen, error = columns.choose([])
    assert error is None and chosen == columns.DEFAULT
    assert chosen[:6] == ("spend", "revenue", "roas", "roi", "cpa", "conversion_rate")


def test_a_choice_keeps_the_table_order_and_names_unknown_columns() -> None:
    chosen, error = columns.choose(["clicks,spend", "ctr"])
    assert chosen == ("spend", "clicks", "ctr") and error is None
    chosen, error = columns.choose(["spend", "margin"])
    assert chosen == ("spend",)
    assert error is not None and "'margin'" in error and "roas" in error
    assert columns.choose(["margin"])[0] == columns.DEFAULT


def test_call_columns_only_where_calls_are_counted() -> None:
    every = tuple(c.key for c in columns.COLUMNS)
    assert "calls" not in [c.key for c in columns.shown(every, calls=False)]
    assert "calls" in [c.key for c in columns.shown(every, calls=True)]


def test_cells_read_like_money_and_compare_with_the_previous_period() -> None:
    shown = columns.shown(("spend", "revenue", "roas", "cpa", "conversion_rate", "visitors"), True)
    now = _row("100.00", "327.00", 4)
    before = _row("100.00", "300.00", 5)
    cells = {c.key: c for c in columns.cells(now, before, shown, "EUR")}
    assert cells["spend"].text == "€100.00" and cells["spend"].change.tone == "neutral"
    assert cells["revenue"].text == "€327.00" and cells["revenue"].change.text == "9.0 %"
    assert cells["revenue"].change.tone == "good"
    assert cells["roas"].text == f"3.27{TIMES}"
    assert cells["cpa"].text == "€25.00" and cells["cpa"].change.tone == "bad"  # was €20.00
    assert cells["conversion_rate"].text == "4.00 %"
    assert cells["visitors"].text == "100" and cells["visitors"].change.text == "0.0 %"


def test_a_row_new_in_this_period_has_nothing_to_compare_with() -> None:
    shown = columns.shown(columns.DEFAULT, False)
    cells = columns.cells(_row(None, "10", 1), None, shown, "USD")
    assert [c.change.text for c in cells] == ["—"] * len(shown)
    assert cells[0].text == "—" and cells[1].text == "$10.00"  # no spend imported
