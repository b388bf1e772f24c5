"""The firstmark command as an operator uses it."""

from __future__ import annotations

import json
import os
import pkgutil
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clitools import env, run

from firstmark.cli import main

__all__ = ["env"]  # the fixture, imported for the tests below


def test_init_prints_only_the_key_and_runs_once(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "init")
    assert code == 0
    assert out.strip().startswith("fm_") and len(out.strip().splitlines()) == 1
    assert "admin" in err
    assert (env / "firstmark.db").exists() and (env / "firstmark.secret").exists()
    code, out, err = run(capsys, "init")
    assert code == 1 and out == "" and "already initialised" in err


def test_keys(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "keys", "create", "--scope", "links:read,reports:read", "--name", "bi"
    )
    assert code == 0 and out.startswith("fm_") and out.count("\n") == 1
    code, out, _ = run(capsys, "keys", "list")
    assert "links:read reports:read" in out and "bi" in out
    code, _, err = run(capsys, "keys", "create", "--scope", "links:destroy")
    assert code == 1 and "unknown scope" in err


def test_link_lifecycle(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "link", "create", "https://shop.example/p", "--code", "spring",
        "--utm-source", "Newsletter", "--utm-medium", "e-mail", "--tag", "print", "--tag", "oslo",
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == "https://fm.example/spring"
    assert "warning: utm_medium" in err and "email" in err

    code, out, _ = run(capsys, "link", "show", "spring", "--json")
    shown = json.loads(out)
    assert shown["utm_source"] == "newsletter" and shown["tags"] == ["print", "oslo"]

    code, out, _ = run(
        capsys,
        "link",
        "update",
        "spring",
        "--destination",
        "https://shop.example/q",
        "--max-hits",
        "5",
    )
    assert code == 0
    code, out, _ = run(capsys, "link", "show", str(shown["id"]), "--json")
    assert json.loads(out)["destination"] == "https://shop.example/q"
    assert json.loads(out)["max_hits"] == 5

    code, out, _ = run(capsys, "link", "list")
    assert "https://fm.example/spring" in out
    code, out, _ = run(capsys, "link", "archive", "spring")
    assert code == 0
    code, out, err = run(capsys, "link", "list")
    assert "spring" not in out and "0 of 0" in err
    code, out, _ = run(capsys, "link", "list", "--all", "--json")
    assert json.loads(out)["items"][0]["archived"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["link", "create", "javascript:alert(1)"],
            "firstmark: destination: destination must be an http or https URL",
        ),
        (
            ["link", "create", "https://a.example/", "--code", "api"],
            "firstmark: code: 'api' is a reserved word",
        ),
        (
            ["link", "create", "https://a.example/", "--rules", "[{"],
            "firstmark: rules: --rules must be JSON",
        ),
        (["link", "show", "nope"], "firstmark: no link with id or code 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(
    env: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(capsys, *args)
    assert code == 1
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1


def test_duplicate_code_keeps_the_first(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "link", "create", "https://a.example/", "--code", "x")[0] == 0
    code, _, err = run(capsys, "link", "create", "https://b.example/", "--code", "x")
    assert code == 1 and "already taken" in err
    _, out, _ = run(capsys, "link", "show", "x", "--json")
    assert json.loads(out)["destination"] == "https://a.example/"


def test_domain_fallback(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "domain", "set", "Go.Brand.example", "--fallback-url", "https://brand.example/"
    )
    assert code == 0 and out.startswith("go.brand.example")
    _, out, _ = run(capsys, "domain", "list")
    assert "https://brand.example/" in out


def test_migrate(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "migrate")
    assert code == 0 and "up to date" in out


def test_every_command_module_is_registered_in_help_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import firstmark.cli
    from firstmark.cli.main import GROUPS

    modules = {m.name for m in pkgutil.iter_modules(firstmark.cli.__path__)} - {"main", "common"}
    assert sorted(group.__name__.rpartition(".")[2] for group in GROUPS) == sorted(modules)
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    listed = [
        line.split()[0]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("    ") and not line.startswith("     ")
    ]
    assert listed == [
        "serve", "migrate", "copy", "init", "keys", "user", "link", "domain", "site", "goal",
        "demo", "costs", "qr", "links", "destination", "outbox", "number", "calls", "privacy",
        "purge", "webhook", "report", "import",
    ]  # fmt: skip


@pytest.mark.parametrize("content", [b"not a database at all" * 50])
def test_serve_with_an_unreadable_database_is_one_clear_line(
    tmp_path: Path, content: bytes
) -> None:
    db = tmp_path / "fm.db"
    db.write_bytes(content)
    proc = subprocess.run(
        [sys.executable, "-m", "firstmark", "serve", "--port", "1"],
        env={
            **os.environ,
            "FIRSTMARK_DATABASE_URL": f"sqlite:///{db}",
            "FIRSTMARK_SECRET_KEY": "x",
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == [
        f"firstmark: cannot use the database {db}: file is not a database"
    ]
    assert db.read_bytes() == content


def test_bad_setting_is_one_clear_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "firstmark", "migrate"],
        env={**os.environ, "FIRSTMARK_PORT": "eighty", "FIRSTMARK_SECRET_KEY": "x"},
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "firstmark: FIRSTMARK_PORT must be a number, not 'eighty'"


def test_sites_and_goals(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "site", "add", "--host", "Shop.Example", "--host", "www.shop.example"
    )
    assert code == 0 and out.startswith('<script defer src="https://fm.example/fm.js"')
    key = err.split("site key: ")[1].strip()
    assert key in out
    code, _, err = run(capsys, "site", "add", "--host", "shop.example")
    assert code == 1 and "hosts" in err
    code, out, _ = run(capsys, "site", "list")
    assert key in out and "shop.example, www.shop.example" in out
    code, out, _ = run(capsys, "site", "hosts", key, "--host", "m.shop.example")
    assert code == 0 and out.strip() == f"{key}: m.shop.example"
    code, _, err = run(capsys, "site", "hosts", "42", "--host", "x.example")
    assert code == 1 and "no site" in err
    code, out, _ = run(
        capsys, "goal", "add", "purchase", "--value", "49", "--currency", "eur", "--json"
    )
    assert code == 0 and json.loads(out)["currency"] == "EUR"
    code, _, err = run(capsys, "goal", "add", "lead", "--window-days", "400")
    assert code == 1 and "window_days" in err
    code, out, _ = run(capsys, "goal", "list")
    assert "purchase" in out and "49 EUR" in out and "lead" not in out


def test_costs_import(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = env / "google.csv"
    export.write_text(
        "Campaign report\nDay,Campaign,Currency code,Cost,Impr.,Clicks\n"
        "2026-11-01,Spring Sale,EUR,12.50,1000,20\n"
    )
    code, out, _ = run(capsys, "costs", "import", str(export))
    assert code == 0
    assert out.strip() == "imported 1 rows (google_ads): 12.50 EUR"
    code, out, _ = run(capsys, "costs", "import", str(export), "--json")
    assert code == 0 and json.loads(out)["replaced"] == 1
    with sqlite3.connect(env / "firstmark.db") as db:  # each import audited, by the CLI
        logged = db.execute("SELECT actor FROM audit WHERE object_kind = 'cost'").fetchall()
    assert logged == [("cli",), ("cli",)]

    export.write_text("date,campaign,spend\n2026-11-01,x,ten\n2026-11-02,y,5\n")
    code, _, err = run(capsys, "costs", "import", str(export), "--source", "partner")
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0].startswith("firstmark: row 2, medium: medium is empty")
    assert "  row 2, spend: 'ten' is not an amount" in lines
    assert "  row 3, currency: currency is missing" in lines[-1]
    code, _, err = run(capsys, "costs", "import", str(env / "missing.csv"))
    assert code == 1 and "cannot read" in err


def test_demo_fills_a_fresh_database_once(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert out.startswith("demo data: 10 links,") and "conversions" in out
    assert "site shop.example (id 1) with " in out and "2 funnels" in out
    assert re.search(r"\(written in \d+\.\d s\)$", out.strip().splitlines()[0])
    code, out, _ = run(capsys, "link", "list", "--json")
    listed = json.loads(out)
    assert {link["code"] for link in listed["items"]} >= {"brand-search", "poster-oslo"}
    code, _, err = run(capsys, "demo")
    assert code == 1 and "already has links" in err
    # today's data ends now: nothing in the database lies in the future
    now = time.time()
    with sqlite3.connect(env / "firstmark.db") as db:
        latest = [
            db.execute(f"SELECT max({column}) FROM {table}").fetchone()[0]
            for table, column in (("hits", "ts"), ("conversions", "ts"), ("calls", "started"),
                                  ("calls", "ended"), ("events", "ts"), ("visits", "last_ts"))
        ]  # fmt: skip
        # The site has something for every page: each way in, funnels, goals reached.
        channels = {
            c for (c,) in db.execute("SELECT DISTINCT channel FROM visits WHERE NOT is_bot")
        }
        funnels = db.execute("SELECT count(*) FROM funnels").fetchone()[0]
        goals = {
            g for (g,) in db.execute("SELECT DISTINCT name FROM events WHERE kind <> 'pageview'")
        }
        first_day = db.execute("SELECT min(started) FROM visits").fetchone()[0]
    db.close()
    assert all(ts is not None and ts <= now for ts in latest), latest
    assert channels >= {"Organic Search", "Paid Search", "Paid Social", "Email", "AI Assistants",
                        "Referral", "Direct", "Organic Social"}  # fmt: skip
    assert funnels == 2 and goals == {"purchase", "newsletter-signup"}
    assert now - first_day > 88 * 86400


def test_help_says_what_firstmark_is_and_how_errors_exit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "first-party tracking" in text
    assert "3 when the database cannot be used." in text
