"""CSV cells are neutralised by the OWASP rule: text that a spreadsheet would run as a
formula gets a leading quote; numbers and ordinary text are left as they are."""

from __future__ import annotations

import csv
import io

import pytest

from firstmark.domain import csvcells, placements, reports, web


@pytest.mark.parametrize(
    "value",
    ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
     "\tindent", "\r=1+1", "=", "-", "+"],
)  # fmt: skip
def test_formula_triggers_get_a_leading_quote(value: str) -> None:
    assert csvcells.cell(value) == "'" + value


@pytest.mark.parametrize("value", ["-12.50", "+3", "-1e5", "0.5", "/pricing", "spring sale", ""])
def test_numbers_and_text_stay(value: str) -> None:
    assert csvcells.cell(value) == value


def test_non_text_is_untouched() -> None:
    assert csvcells.row([-5, 2.5, None, "=x"]) == [-5, 2.5, None, "'=x"]


def test_a_document_is_utf8_behind_a_bom_and_keeps_its_cells_neutralised() -> None:
    evil = "=1+1"
    row = {f: 0 for f in web.ROW_FIELDS} | {"key": evil}
    sent = csvcells.document(web.to_csv([row]))
    assert sent.startswith(b"\xef\xbb\xbf") and sent.count(b"\xef\xbb\xbf") == 1
    assert _cells(sent.decode("utf-8-sig"))[1][0] == "'" + evil
    assert csvcells.document("city\nZürich —\n").decode("utf-8-sig") == "city\nZürich —\n"


def test_every_csv_export_neutralises_its_cells() -> None:
    evil = '=HYPERLINK("http://evil.example")'
    row = {f: 0 for f in web.ROW_FIELDS} | {"key": evil}
    assert _cells(web.to_csv([row]))[1][0] == "'" + evil
    assert _cells(reports.attribution_csv([_entry(evil)], ["campaign"]))[1][0] == "'" + evil
    spot = placements.Placement(parent_id=1, name="@stand", code="c1", venue="-x", medium="+y")
    text = placements.manifest([(spot, "https://go.example/q/c1", "f.png")], ["ok"])
    assert _cells(text)[1][:1] + _cells(text)[1][4:6] == ["'@stand", "'-x", "'+y"]


def _entry(campaign: str) -> dict[str, object]:
    from firstmark.domain import attribution

    return {"campaign": campaign} | {
        m: {"conversions": 1, "revenue": "-2.00"} for m in attribution.MODELS
    }


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))
