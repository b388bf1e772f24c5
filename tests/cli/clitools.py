"""Running the firstmark command in-process, as the CLI tests do: a clean folder and
environment for each test (`env`, a fixture the test modules import) and `run`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from firstmark.cli import main

__all__ = ["env", "run"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working folder whose firstmark.db is named by FIRSTMARK_DATABASE_URL (so the
    first command creates it without the warning for a folder without one); no FIRSTMARK_*
    setting of the machine leaks in."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("FIRSTMARK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FIRSTMARK_BASE_URL", "https://fm.example")
    monkeypatch.setenv("FIRSTMARK_DATABASE_URL", "sqlite:///./firstmark.db")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`firstmark *args`: the exit code, stdout and stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err
