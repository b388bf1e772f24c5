"""The command as someone new to it meets it: the help, the demo's login, and a folder that
holds no database yet."""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from clitools import env, run

from firstmark.cli.main import GROUPS, build_parser
from firstmark.domain.keys import SCOPES
from firstmark.domain.passwords import check_password

__all__ = ["env"]  # the fixture, imported for the tests below


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder without firstmark.db and no FIRSTMARK_DATABASE_URL: the default database."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("FIRSTMARK_"):
            monkeypatch.delenv(name)
    return tmp_path


def subparsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def test_demo_prints_a_dashboard_login_that_works(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    found = re.search(r"Dashboard: (\S+) \(user (\w+), password (\S+)\)", out)
    assert found, out
    assert found[1] == "https://fm.example/dashboard"
    with sqlite3.connect(env / "firstmark.db") as db:
        (hashed,) = db.execute(
            "SELECT password_hash FROM users WHERE username = ?", (found[2],)
        ).fetchone()
    db.close()
    assert check_password(found[3], hashed)


def test_demo_on_a_database_with_users_says_how_to_set_a_password(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "init", "--password", "a long password here")[0] == 0
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    assert "password" in out and "`firstmark user password admin`" in out
    assert "a long password here" not in out


def test_a_reading_command_outside_a_data_folder_says_there_is_no_database(
    bare: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "link", "list")
    assert code == 3 and out == ""
    assert err.startswith(f"firstmark: no database in {bare.resolve()}")
    assert "FIRSTMARK_DATABASE_URL" in err and len(err.strip().splitlines()) == 1
    assert list(bare.iterdir()) == []  # neither a database nor a secret file left behind


def test_an_adding_command_outside_a_data_folder_warns_before_creating_one(
    bare: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "link", "create", "https://a.example/", "--code", "a")
    assert code == 0
    assert err.startswith("firstmark: warning: no database in ")
    assert str(bare.resolve() / "firstmark.db") in err
    assert out.strip() == "http://127.0.0.1:8000/a"
    code, _, err = run(capsys, "link", "create", "https://b.example/", "--code", "b")
    assert code == 0 and "warning" not in err  # the folder has its database now


@pytest.mark.parametrize("command", [["init"], ["migrate"]])
def test_a_creating_command_says_where_the_new_database_is(
    bare: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    code, _, err = run(capsys, *command)
    assert code == 0
    assert f"firstmark: creating a new database at {bare.resolve() / 'firstmark.db'}" in err
    assert "warning" not in err
    code, _, err = run(capsys, *command)
    assert "creating" not in err


def test_top_level_help_lists_every_command_on_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    parser = build_parser()
    text = parser.format_help()
    names = [name for name, _ in subparsers(parser)]
    assert len(names) >= len(GROUPS)
    for name in names:
        line = re.search(rf"^    {name} +(\S.*)$", text, re.MULTILINE)
        assert line, f"{name} has no help on its line:\n{text}"
        following = text[line.end() + 1 :].splitlines()[0]
        assert not following.startswith(" " * 6), f"{name}'s help goes on: {following!r}"
    assert max(len(line) for line in text.splitlines()) <= 80


def test_every_help_renders(capsys: pytest.CaptureFixture[str]) -> None:
    def walk(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
        yield parser
        for _, child in subparsers(parser):
            yield from walk(child)

    helps = [parser.format_help() for parser in walk(build_parser())]
    assert len(helps) > 40
    assert any("logo width, % of the code" in text for text in helps)


def test_keys_create_help_lists_every_scope(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(capsys, "keys", "create", "--help")
    text = " ".join(capsys.readouterr().out.split())
    for scope in SCOPES:
        assert scope in text


def test_the_readmes_example_costs_import(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).parent.parent.parent / "examples" / "costs.csv"
    code, out, err = run(capsys, "costs", "import", str(example))
    assert code == 0, err
    assert out.strip() == "imported 7 rows (generic): 451.65 EUR"
    code, out, _ = run(capsys, "costs", "import", str(example), "--json")
    assert code == 0 and '"replaced": 7' in out  # the same period again: replaced, not added
