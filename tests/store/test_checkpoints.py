"""SQLite's WAL is copied back by the server's checkpointer, not inside the writer's commits."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from firstmark.domain.links import Link
from firstmark.errors import StoreUnavailable
from firstmark.services import checkpoints
from firstmark.store.sqlite.store import WRITER_AUTOCHECKPOINT
from sqlitetools import opened


async def test_the_writer_leaves_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "fm.db"
    store = await opened(path)
    rows = await store.writer.execute_fetchall("PRAGMA wal_autocheckpoint")
    assert next(iter(rows))[0] == WRITER_AUTOCHECKPOINT
    for n in range(400):  # a few pages a transaction: well over SQLite's default of 1,000
        await store.insert_link(Link(destination="https://a.example/", code=f"c{n}"))
    # The writer did not copy the WAL back at 1,000 frames (it would then have started the
    # file over, and it would not have grown past them).
    frames = (Path(f"{path}-wal").stat().st_size - 32) // (4096 + 24)
    assert frames > 1_100
    await store.close()


async def test_a_checkpoint_copies_the_wal_back(tmp_path: Path) -> None:
    path = tmp_path / "fm.db"
    store = await opened(path)
    for n in range(50):
        await store.insert_link(Link(destination="https://a.example/", code=f"c{n}"))
    await store.checkpoint()
    # A second, independent checkpoint finds every frame copied back already.
    with sqlite3.connect(path) as db:
        busy, log, done = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and log == done > 0
    await store.close()


async def test_the_timer_keeps_going_when_a_checkpoint_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    class Away:
        async def checkpoint(self) -> None:
            nonlocal calls
            calls += 1
            raise StoreUnavailable("cannot use the database: disk I/O error")

    task = asyncio.create_task(checkpoints.run_forever(Away(), interval=0.01))  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="firstmark.store"):
        await asyncio.sleep(0.1)
    task.cancel()
    assert calls >= 3
    assert "checkpoint failed" in caplog.text
