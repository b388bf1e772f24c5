"""Calls in report tables: counted beside clicks, by one dimension or several, a row for a
campaign only a phone reached, cost per qualified call only where there is a cost, and "—"
where calls cannot be counted."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from firstmark.domain import dimensions, reports
from firstmark.domain.reports import CallCount, ConversionTotal, CostTotal, TrafficTotal

TRAFFIC = [
    TrafficTotal(("spring",), hits=120, bot_hits=20, uniques=80, clicks=90, scans=10),
    TrafficTotal(("brand",), hits=50, bot_hits=0, uniques=40, clicks=50, scans=0),
]
CONVERSIONS = [ConversionTotal(("spring",), "EUR", 4, Decimal("200.00"))]
COSTS = [CostTotal(("spring",), "EUR", Decimal("90.00"), 3000, 60, 3)]


def test_calls_sit_beside_clicks_and_cost_per_call_needs_a_cost() -> None:
    calls = [
        CallCount(("spring",), calls=7, answered=5, qualified=3),
        CallCount(("poster-only",), calls=2, answered=2, qualified=1),
    ]
    rows = {
        r.key[0]: r for r in reports.table(("campaign",), TRAFFIC, CONVERSIONS, COSTS, "EUR", calls)
    }
    spring = rows["spring"]
    assert (spring.calls, spring.answered_calls, spring.qualified_calls) == (7, 5, 3)
    assert spring.kpis["cost_per_call"] == Decimal("30.00")  # 90 EUR / 3 qualified calls
    assert spring.kpis["cpa"] == Decimal("22.50")  # the calls' conversions are among the 4
    brand = rows["brand"]  # traffic, no calls: zero calls, not unknown
    assert (brand.calls, brand.qualified_calls) == (0, 0)
    assert brand.kpis["cost_per_call"] is None  # no cost imported for it
    poster = rows["poster-only"]  # reached by phone only: a row of its own
    assert (poster.clicks, poster.calls, poster.qualified_calls) == (0, 2, 1)
    assert poster.kpis["cost_per_call"] is None

    total = reports.total(rows.values(), calls=True)
    assert (total.calls, total.answered_calls, total.qualified_calls) == (9, 7, 4)
    assert total.kpis["cost_per_call"] == Decimal("22.50")  # 90 EUR / 4


def test_a_costed_row_without_qualified_calls_has_no_cost_per_call() -> None:
    calls = [CallCount(("spring",), calls=3, answered=0, qualified=0)]
    [spring, _] = reports.table(("campaign",), TRAFFIC, CONVERSIONS, COSTS, "EUR", calls)
    assert spring.calls == 3 and spring.kpis["cost_per_call"] is None


def test_channels_count_calls_under_source_and_medium() -> None:
    traffic = [
        TrafficTotal(("google", "cpc"), 10, 0, 8, 10, 0),
        TrafficTotal(("google", "organic"), 30, 0, 25, 30, 0),
    ]
    costs = [CostTotal(("google", "cpc"), "EUR", Decimal("40.00"), None, None, 1)]
    calls = [
        CallCount(("google", "cpc"), calls=3, answered=2, qualified=2),
        CallCount(("print", None), calls=1, answered=1, qualified=0),  # a poster's number
    ]
    dims = ("source", "medium")
    rows = {r.key: r for r in reports.table(dims, traffic, [], costs, "EUR", calls)}
    assert (rows[("google", "cpc")].calls, rows[("google", "cpc")].qualified_calls) == (3, 2)
    assert rows[("google", "cpc")].kpis["cost_per_call"] == Decimal("20.00")  # 40 EUR / 2
    assert rows[("google", "organic")].calls == 0  # clicks, no calls: zero, not unknown
    assert (rows[("print", None)].clicks, rows[("print", None)].calls) == (0, 1)
    text = reports.to_csv(rows.values(), dims)
    lines = {(x["source"], x["medium"]): x for x in csv.DictReader(io.StringIO(text))}
    assert lines[("google", "cpc")]["calls"] == "3"
    assert lines[("google", "cpc")]["cost_per_call"] == "20.00"
    assert lines[("print", "")]["answered_calls"] == "1"


def test_a_table_that_cannot_count_calls_shows_none() -> None:
    traffic = [TrafficTotal(("google", "cpc"), 10, 0, 8, 10, 0)]
    [row] = reports.table(("source", "medium"), traffic, [], [], None, None)
    assert row.calls is None and row.qualified_calls is None
    body = reports.to_json(row, ("source", "medium"))
    assert body["calls"] is None and body["answered_calls"] is None
    assert body["cost_per_call"] is None
    [line] = list(csv.DictReader(io.StringIO(reports.to_csv([row], ("source", "medium")))))
    assert line["calls"] == "—" and line["cost_per_call"] == "—"
    assert reports.total([row]).calls is None
    assert reports.total([], calls=True).calls == 0  # an empty table that counts calls


def test_csv_and_json_carry_the_call_columns() -> None:
    calls = [CallCount(("spring",), 7, 5, 3)]
    rows = reports.table(("campaign",), TRAFFIC, CONVERSIONS, COSTS, "EUR", calls)
    text = reports.to_csv(rows, ("campaign",))
    header = text.splitlines()[0].split(",")
    assert header[header.index("revenue") + 1 : header.index("revenue") + 4] == [
        "calls", "answered_calls", "qualified_calls",
    ]  # fmt: skip
    assert header[-1] == "cost_per_call"
    by_campaign = {line["campaign"]: line for line in csv.DictReader(io.StringIO(text))}
    assert by_campaign["spring"]["qualified_calls"] == "3"
    assert by_campaign["spring"]["cost_per_call"] == "30.00"
    assert by_campaign["brand"]["calls"] == "0" and by_campaign["brand"]["cost_per_call"] == "—"
    spring = reports.to_json(rows[0], ("campaign",))
    assert (spring["calls"], spring["qualified_calls"], spring["cost_per_call"]) == (7, 3, "30.00")


def test_call_groups_and_keys_match_the_report_dimensions() -> None:
    assert reports.call_group(("campaign",)) == ("utm_campaign",)
    assert reports.call_group(("link",)) == ("link_id",)
    assert reports.call_group(("source", "medium")) == ("utm_source", "utm_medium")
    assert reports.call_group(("day", "content")) == ("day", "utm_content")
    assert reports.call_group(dimensions.DIMENSIONS) is not None  # every table counts calls
    assert reports.call_group(("source", "device")) is None  # not a dimension calls have
    assert reports.call_key("link", "12") == 12
    assert reports.call_key("day", "2026-11-25") == (date(2026, 11, 25) - date(1970, 1, 1)).days
    assert reports.call_key("campaign", "spring") == "spring"
    assert reports.call_key("link", None) is None
