"""Ad-cost exports: each platform's file read right, a bad file refused whole with row numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain.costs import PRESETS, CostRow, parse_costs
from firstmark.errors import InvalidField, InvalidFile

GOOGLE = """Campaign report
"November 1, 2026 - November 2, 2026"
Day,Campaign,Currency code,Cost,Impr.,Clicks
2026-11-01,Spring Sale,EUR,"1,204.50","12,000",340
2026-11-02,Spring Sale,EUR,98.10,900,--
Total: Account,,,"1,302.60","12,900",340
"""

META = """Reporting starts,Reporting ends,Campaign name,Amount spent (EUR),Impressions,Link clicks
2026-11-01,2026-11-01,Black Friday Retargeting,55.20,4100,61
"""

LINKEDIN = """Start Date (in UTC),Campaign Name,Total Spent,Currency,Impressions,Clicks
11/3/2026,B2B Webinar,310.00,USD,2200,18
"""

TIKTOK = (
    "By Day,Campaign name,Cost,Currency,Impressions,Clicks (destination)\n"
    "2026-11-01 00:00:00,Launch Teaser,20.5,EUR,10000,150\n"
)

MICROSOFT = """Gregorian date,Campaign name,Currency code,Spend,Impressions,Clicks
11/01/2026,Brand Terms,USD,12.00,300,21
"""

GENERIC = """date;source;medium;campaign;spend;currency;impressions;clicks
2026-11-05;Newsletter;email;Spring Sale;0;EUR;;
2026-11-05;print;qr;Poster Oslo S;450,00;NOK;;
"""


@pytest.mark.parametrize(
    ("text", "preset", "expected"),
    [
        (GOOGLE, "google_ads", CostRow(date(2026, 11, 1), "google", "cpc", "spring-sale",
                                       Decimal("1204.50"), "EUR", 12000, 340)),
        (META, "meta", CostRow(date(2026, 11, 1), "facebook", "paid-social",
                               "black-friday-retargeting", Decimal("55.20"), "EUR", 4100, 61)),
        (LINKEDIN, "linkedin", CostRow(date(2026, 11, 3), "linkedin", "paid-social",
                                       "b2b-webinar", Decimal("310.00"), "USD", 2200, 18)),
        (TIKTOK, "tiktok", CostRow(date(2026, 11, 1), "tiktok", "paid-social", "launch-teaser",
                                   Decimal("20.5"), "EUR", 10000, 150)),
        (MICROSOFT, "microsoft", CostRow(date(2026, 11, 1), "bing", "cpc", "brand-terms",
                                         Decimal("12.00"), "USD", 300, 21)),
        (GENERIC, "generic", CostRow(date(2026, 11, 5), "newsletter", "email", "spring-sale",
                                     Decimal("0"), "EUR", None, None)),
    ],
)  # fmt: skip
def test_each_export_is_recognised_and_read(text: str, preset: str, expected: CostRow) -> None:
    parsed = parse_costs(text.encode(), "auto")
    assert parsed.preset == preset
    assert parsed.rows[0] == expected
    assert parse_costs(text.encode(), preset).rows == parsed.rows


def test_google_export_skips_title_and_total_rows_and_reads_dashes() -> None:
    parsed = parse_costs(GOOGLE.encode())
    assert len(parsed.rows) == 2
    assert parsed.rows[1].clicks == 0
    assert parsed.spend == {"EUR": Decimal("1302.60")}
    assert parsed.periods == [("google", "cpc", date(2026, 11, 1), date(2026, 11, 2))]


def test_decimal_comma_and_semicolons() -> None:
    rows = parse_costs(GENERIC.encode()).rows
    assert rows[1].spend == Decimal("450.00") and rows[1].currency == "NOK"


def test_utf16_excel_export_with_tabs() -> None:
    text = GOOGLE.replace(",", "\t").replace('"1\t204.50"', "1204.50").replace('"12\t000"', "12000")
    parsed = parse_costs(text.encode("utf-16"))
    assert parsed.rows[0].spend == Decimal("1204.50")


def test_source_and_medium_can_be_chosen() -> None:
    parsed = parse_costs(META.encode(), source="Instagram", medium="paid-social")
    assert (parsed.rows[0].source, parsed.rows[0].medium) == ("instagram", "paid-social")


def test_every_bad_row_is_reported_with_its_line() -> None:
    bad = (
        "date,source,medium,campaign,spend,currency\n"
        "2026-11-01,google,cpc,ok,10,EUR\n"
        "2026-13-01,google,cpc,bad date,10,EUR\n"
        "2026-11-02,google,cpc,negative,-5,EUR\n"
        "2026-11-03,google,cpc,money,ten,EUR\n"
        "2026-11-04,google,cpc,currency,10,EURO\n"
        "2026-11-05,,cpc,,10,EUR\n"
    )
    with pytest.raises(InvalidFile) as err:
        parse_costs(bad.encode())
    found = [(e.row, e.column) for e in err.value.errors]
    assert found == [
        (3, "date"), (4, "spend"), (5, "spend"), (6, "currency"), (7, "campaign"), (7, "source"),
    ]  # fmt: skip
    body = err.value.to_json()["error"]
    assert body["field"] == "file"  # type: ignore[index]
    assert body["rows"][0] == {  # type: ignore[index]
        "row": 3,
        "column": "date",
        "message": "'2026-13-01' is not a date (use YYYY-MM-DD)",
    }
    assert "nothing was imported" in err.value.message


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        (b"Campaign,Clicks\nx,1\n", "file", "missing_columns"),
        (b"date,source,medium,campaign,spend,currency\n", "file", "empty_file"),
        ("date,campaign,spend\n2026-11-01,Été,10\n".encode("latin-1"), "file", "invalid_encoding"),
    ],
)
def test_unreadable_files_name_the_problem(data: bytes, field: str, code: str) -> None:
    with pytest.raises(InvalidField) as err:
        parse_costs(data)
    assert (err.value.field, err.value.code) == (field, code)


def test_missing_currency_and_channel_need_a_choice() -> None:
    text = b"date,campaign,spend\n2026-11-01,x,10\n"
    with pytest.raises(InvalidFile) as err:
        parse_costs(text)
    assert {e.column for e in err.value.errors} == {"source", "medium", "currency"}
    rows = parse_costs(text, source="partner", medium="display", currency="chf").rows
    assert (rows[0].source, rows[0].medium, rows[0].currency) == ("partner", "display", "CHF")


def test_unknown_preset_and_currency_choice_are_refused() -> None:
    with pytest.raises(InvalidField) as err:
        parse_costs(GENERIC.encode(), "snapchat")
    assert err.value.field == "preset"
    with pytest.raises(InvalidField) as err:
        parse_costs(META.encode(), currency="euro")
    assert err.value.field == "currency"


@given(
    st.lists(
        st.tuples(
            st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
            st.decimals(min_value=0, max_value=10**7, places=2),
            st.integers(min_value=0, max_value=10**9),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_generic_round_trip(rows: list[tuple[date, Decimal, int]]) -> None:
    lines = ["date,source,medium,campaign,spend,currency,impressions,clicks"]
    lines += [f"{d.isoformat()},google,cpc,c,{s},EUR,{n},{n // 2}" for d, s, n in rows]
    parsed = parse_costs("\n".join(lines).encode(), "generic")
    assert [(r.day, r.spend, r.impressions) for r in parsed.rows] == rows
    assert parsed.spend["EUR"] == sum(s for _, s, _ in rows)


def test_presets_name_their_channel() -> None:
    assert {p: (PRESETS[p].source, PRESETS[p].medium) for p in PRESETS} == {
        "google_ads": ("google", "cpc"),
        "meta": ("facebook", "paid-social"),
        "linkedin": ("linkedin", "paid-social"),
        "tiktok": ("tiktok", "paid-social"),
        "microsoft": ("bing", "cpc"),
        "generic": (None, None),
    }
