"""The SQLite database and its -wal and -shm files are created readable by their owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from firstmark.domain.passwords import hash_password
from firstmark.store import create_store


async def test_database_wal_and_shm_are_created_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, which leaves new files world-readable
    try:
        store = create_store(f"sqlite:///{tmp_path}/fm.db")
        await store.open()
        try:
            await store.migrate()
            await store.insert_user("ada", hash_password("long enough pw"), "owner")
            files = sorted(p.name for p in tmp_path.iterdir())
            assert files == ["fm.db", "fm.db-shm", "fm.db-wal"]
            for path in tmp_path.iterdir():
                mode = stat.S_IMODE(path.stat().st_mode)
                assert mode == 0o600, f"{path.name} is {oct(mode)}"
        finally:
            await store.close()
    finally:
        os.umask(old)


async def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "fm.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    store = create_store(f"sqlite:///{path}")
    await store.open()
    try:
        await store.migrate()
    finally:
        await store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
