"""The docs stand on their own: every KPI the reports compute is explained in docs/kpis.md, and
no page or template cites a document the repository does not hold."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from firstmark.domain.kpis import KPI_NAMES, NO_VALUE, Totals, kpis, shown

ROOT = Path(__file__).parent.parent
KPIS = ROOT / "docs" / "kpis.md"


def test_every_kpi_has_its_formula_in_the_docs() -> None:
    text = KPIS.read_text()
    fields = re.findall(r"^\| [^|]+ \| `(\w+)` \| [^|]+ \|", text, re.MULTILINE)
    assert sorted(fields) == sorted(KPI_NAMES)
    assert f"| dashboard | `{NO_VALUE}` |" in text and "| JSON (API) | `null` |" in text


def test_the_documented_example_reads_as_the_code_computes_it() -> None:
    # docs/kpis.md: 100 clicks, 4 conversions worth 200 EUR, no imported cost.
    row = kpis(Totals(clicks=100, visitors=80, conversions=4, revenue=Decimal(200)))
    assert row["conversion_rate"] == Decimal("5.00")
    assert [shown(row[name]) for name in ("cpc", "cpa", "roas", "roi")] == [NO_VALUE] * 4


def test_no_page_cites_a_design_document_that_is_not_there() -> None:
    pages = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "templates").rglob("*")]
    cited = [
        f"{page.relative_to(ROOT)}: {line.strip()}"
        for page in pages
        if page.is_file()
        for line in page.read_text().splitlines()
        if "DESIGN §" in line
    ]
    assert cited == []
    for page in (ROOT / "docs" / "api.md", ROOT / "docs" / "dashboard.md"):
        assert "(kpis.md)" in page.read_text()
