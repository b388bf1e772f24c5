"""`firstmark import`: each fixture in, codes and UTM intact, clicks in the link's stats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clitools import env, run

__all__ = ["env"]

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"


@pytest.mark.parametrize(
    ("tool", "name", "codes"),
    [
        ("bitly", "bitly.csv", ["spring24", "docs-home"]),
        ("yourls", "yourls.sql", ["ozh", "yourls"]),
        ("yourls", "yourls.csv", ["gh"]),
        ("shlink", "shlink.csv", ["abc123", "blog"]),
        ("shlink", "shlink.json", ["12C18"]),
        ("kutt", "kutt.json", ["promo", "about"]),
        ("dub", "dub.csv", ["launch", "pricing"]),
    ],
)
def test_each_export_imports_with_its_codes(
    env: Path, capsys: pytest.CaptureFixture[str], tool: str, name: str, codes: list[str]
) -> None:
    code, out, _ = run(capsys, "import", tool, str(FIXTURES / name), "--json")
    assert code == 0
    assert json.loads(out)["imported"] == len(codes)
    for short in codes:
        code, out, _ = run(capsys, "link", "show", short, "--json")
        assert code == 0 and json.loads(out)["code"] == short


def test_utm_lands_in_fields_and_a_second_run_only_reports_conflicts(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "import", "bitly", str(FIXTURES / "bitly.csv"))
    assert code == 0
    assert "imported 2 links (1291 historical clicks), 0 conflicts, 0 errors" in out
    assert "\r[" not in err  # no progress bar when stderr is not a terminal
    _, out, _ = run(capsys, "link", "show", "spring24", "--json")
    link = json.loads(out)
    assert link["destination"] == "https://shop.example/sale?ref=x"
    assert (link["utm_source"], link["utm_medium"], link["utm_campaign"]) == (
        "newsletter",
        "email",
        "spring",
    )
    assert link["tags"] == ["promo", "email"]
    code, out, err = run(capsys, "import", "bitly", str(FIXTURES / "bitly.csv"))
    assert code == 0
    assert "imported 0 links (0 historical clicks), 2 conflicts" in out
    assert "conflict: row 2: 'spring24' is already in use" in err


def test_a_bad_file_is_one_clear_message_and_a_non_zero_exit(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "bad.json").write_text('{"data": [{"address": "x"}]}')
    code, _, err = run(capsys, "import", "kutt", "bad.json")
    assert code == 1
    assert "row 1, target: target is missing; nothing was imported" in err
    code, _, err = run(capsys, "import", "kutt", "missing.json")
    assert code == 1 and "cannot read missing.json" in err


class Terminal:
    """A stderr that says it is a terminal, keeping what was written."""

    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_on_a_terminal_a_progress_bar_is_drawn_on_stderr(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    code, out, _ = run(capsys, "import", "dub", str(FIXTURES / "dub.csv"))
    assert code == 0 and "imported 2 links" in out
    assert "\r[" + "#" * 15 + "." * 15 + "] 1/2" in terminal.text
    assert terminal.text.endswith("\r[" + "#" * 30 + "] 2/2 links\n")


DEALS = Path(__file__).parent.parent / "fixtures" / "deals"


def test_a_crm_export_of_deals_imports_once_with_its_report(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = DEALS / "pipedrive.csv"
    code, out, _ = run(capsys, "import", "deals", str(export), "--preset", "pipedrive", "--dry-run")
    assert code == 0 and "would import 0 conversions; 0 rows matched, 2 unmatched" in out
    code, out, _ = run(capsys, "import", "deals", str(export), "--preset", "pipedrive")
    assert code == 0
    assert "row 2: deal 101 (won): unmatched: no visit with this fbclid" in out
    assert "imported 2 conversions; 0 rows matched, 2 unmatched" in out
    code, out, _ = run(capsys, "import", "deals", str(export), "--preset", "pipedrive", "--json")
    assert code == 0 and json.loads(out)["imported"] == 0  # the same deals, nothing new


def test_a_deal_export_with_a_bad_row_imports_nothing(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = env / "deals.csv"
    bad.write_text("deal_id,stage,ts,value\n1,won,2026-11-30,12\n2,won,someday,1\n")
    code, _, err = run(capsys, "import", "deals", str(bad), "--currency", "EUR")
    assert code != 0 and "row 3, ts" in err and "nothing was imported" in err
    code, _, err = run(capsys, "import", "deals", str(bad.with_name("none.csv")))
    assert code != 0 and "cannot read" in err
