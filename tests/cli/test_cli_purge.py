"""`firstmark purge [--dry-run]` as an operator uses it."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
import types
from pathlib import Path

import pytest
from clitools import env, run

from firstmark.services import demo, retention
from firstmark.store import create_store

__all__ = ["env"]  # the fixture, imported for the tests below


def seed_old(path: Path) -> int:
    """Demo data whose 90 days straddle the 395-day line; the hits older than it."""

    async def go() -> None:
        store = create_store(f"sqlite:///{path}")
        await store.open()
        await store.migrate()
        last = dt.datetime.fromtimestamp(time.time() - 350 * 86_400, dt.UTC).date()
        await demo.seed(store, last, b"k" * 32)
        await store.close()

    asyncio.run(go())
    with sqlite3.connect(path) as db:
        cutoff = time.time() - 395 * 86_400
        return int(db.execute("SELECT count(*) FROM hits WHERE ts < ?", (cutoff,)).fetchone()[0])


def hits(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM hits").fetchone()[0])


def test_dry_run_shows_each_class_then_purge_deletes_it(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = seed_old(env / "firstmark.db")
    # One clock for the three runs: the demo's rows straddle the 395-day line, so a
    # second later another row or two would cross it and the last dry run count them.
    frozen = time.time()
    monkeypatch.setattr(retention, "time", types.SimpleNamespace(time=lambda: frozen))
    total = hits(env / "firstmark.db")
    code, out, err = run(capsys, "purge", "--dry-run")
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert f"{old:,}" in lines["hits"] and "395 days" in lines["hits"]
    assert "for ever" in lines["credits"] and "audit" in lines
    assert hits(env / "firstmark.db") == total  # a dry run deletes nothing
    code, out, err = run(capsys, "purge")
    assert code == 0, err
    assert "purged" in out.splitlines()[0] and f"{old:,}" in out
    assert hits(env / "firstmark.db") == total - old
    code, out, err = run(capsys, "purge", "--dry-run")
    assert code == 0 and "would purge 0 rows" in err
    with sqlite3.connect(env / "firstmark.db") as db:  # the purge, not the dry runs, audited
        logged = db.execute("SELECT actor, object_kind, detail FROM audit WHERE action = 'purge'")
        [(actor, kind, detail)] = logged.fetchall()
    assert (actor, kind) == ("cli", "retention") and f'"hits": {old}' in detail


def test_a_bad_retention_setting_exits_non_zero(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIRSTMARK_RETENTION_HITS_DAYS", "a year")
    code, _, err = run(capsys, "purge", "--dry-run")
    assert code == 2 and "FIRSTMARK_RETENTION_HITS_DAYS" in err
