"""`firstmark report send`: the summary now, printed, e-mailed, or a clear refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from clitools import env, run

from smtptools import smtp_server_thread

__all__ = ["env"]


def test_print_writes_the_html_and_sends_nothing(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "report", "send", "--period", "day", "--print")
    assert code == 0
    assert out.startswith("<!DOCTYPE html>") and "Daily summary" in out
    assert "https://fm.example/dashboard/reports" in out


def test_send_mails_the_weekly_summary(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server_thread() as server:
        monkeypatch.setenv("FIRSTMARK_SMTP_URL", server.url)
        monkeypatch.setenv("FIRSTMARK_REPORT_TO", "team@example.com")
        code, out, err = run(capsys, "report", "send", "--to", "ops@example.com")
    assert code == 0, err
    assert "e-mailed to 1 recipient(s)" in out
    [got] = server.received
    assert got.recipients == ["ops@example.com"]  # --to instead of FIRSTMARK_REPORT_TO
    assert got.message["Subject"].startswith("firstmark: Weekly summary, ")
    assert got.sender == "firstmark@fm.example"
    assert "Weekly summary" in got.html()


def test_without_a_relay_or_subscriber_nothing_is_sent(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "report", "send", "--to", "ops@example.com")
    assert code == 2 and "FIRSTMARK_SMTP_URL is not set" in err
    code, _, err = run(capsys, "report", "send")
    assert code == 1 and "nothing to send to" in err


def test_a_bad_address_is_refused(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run(capsys, "report", "send", "--to", "not an address")
    assert exited.value.code == 2
    assert "must be an e-mail address" in capsys.readouterr().err


def test_a_relay_that_is_down_is_one_line_and_exit_1(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server_thread() as server:
        closed = server.url  # the port is free again once the server is gone
    monkeypatch.setenv("FIRSTMARK_SMTP_URL", closed.replace("smtp://", "smtp://u:pw-secret@"))
    code, _, err = run(capsys, "report", "send", "--to", "ops@example.com")
    assert code == 1 and "mail via smtp://127.0.0.1:" in err
    assert "pw-secret" not in err and "ops@example.com" not in err
