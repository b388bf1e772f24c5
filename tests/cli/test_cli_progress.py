"""Progress bars of the long commands: drawn on a terminal's stderr, absent from logs and pipes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from clitools import env, run

from firstmark.cli.common import progress_bar, render_bar

__all__ = ["env"]  # the fixture, imported for the tests below

EXPORT = "date,campaign,source,medium,currency,spend\n2026-11-01,spring,google,cpc,EUR,12.50\n"


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_the_bar_reads_as_done_out_of_all() -> None:
    assert render_bar(1, 4, "links", width=8) == "[##......] 1/4 links"
    assert render_bar(0, 0, width=4) == "[....] 0/1"
    assert render_bar(12_000, 12_000, width=4) == "[####] 12,000/12,000"


def test_a_bar_redraws_one_line_and_ends_it_once() -> None:
    out = Terminal()
    draw = progress_bar("rows", out=out)
    assert draw is not None
    for done in range(1, 1001):
        draw(done, 1000)
    text = out.getvalue()
    assert text.count("\r") == 101  # once a percent from 0 to 100, not once a row
    assert text.endswith("\r[" + "#" * 30 + "] 1,000/1,000 rows\n") and text.count("\n") == 1


def test_no_bar_when_stderr_is_not_a_terminal() -> None:
    assert progress_bar("rows", out=io.StringIO()) is None


def test_cost_import_draws_on_a_terminal_only(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    export = env / "costs.csv"
    export.write_text(EXPORT)
    code, out, err = run(capsys, "costs", "import", str(export))
    assert code == 0 and err == "" and out.startswith("imported 1 rows")
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    code, out, _ = run(capsys, "costs", "import", str(export))
    assert code == 0 and out.startswith("imported 1 rows")
    assert terminal.getvalue().endswith("\r[" + "#" * 30 + "] 3/3 cost import\n")


def test_links_check_draws_on_a_terminal_only(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIRSTMARK_HEALTHCHECK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("FIRSTMARK_HEALTHCHECK_TIMEOUT", "2")
    for short in ("a", "b"):  # port 9 (discard) refuses at once: two failing checks
        assert run(capsys, "link", "create", f"http://127.0.0.1:9/{short}", "--code", short)[0] == 0
    code, _, err = run(capsys, "links", "check")
    assert code == 0 and err == "2 checked, 2 failing\n"
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    run(capsys, "links", "check")
    drawn = terminal.getvalue()
    assert "\r[" + "#" * 15 + "." * 15 + "] 1/2 destinations checked" in drawn
    assert "\r[" + "#" * 30 + "] 2/2 destinations checked\n" in drawn


def test_a_deals_import_draws_on_a_terminal_only(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    export = Path(__file__).parent.parent / "fixtures" / "deals" / "pipedrive.csv"
    args = ("import", "deals", str(export), "--preset", "pipedrive", "--dry-run")
    code, out, err = run(capsys, *args)
    assert code == 0 and err == "" and "would import" in out
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    code, out, _ = run(capsys, *args)
    assert code == 0 and "would import" in out
    assert terminal.getvalue().endswith("\r[" + "#" * 30 + "] 2/2 deals\n")
