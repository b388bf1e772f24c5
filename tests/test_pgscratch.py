"""`make test`'s PostgreSQL: a scratch database made and dropped around the run when a local
server answers, nothing when FIRSTMARK_TEST_POSTGRES_URL is set already, a skip said otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import pgscratch

HELPER = Path(__file__).parent / "pgscratch.py"
# The child says which database it was given and whether it could use it.
CHILD = """
import asyncio, os, sys
url = os.environ.get("FIRSTMARK_TEST_POSTGRES_URL", "")
print("child:", url or "none")
if "/fm_test_" in url:  # a scratch database of the helper's
    import asyncpg
    async def use():
        conn = await asyncpg.connect(url, timeout=2)
        await conn.execute("CREATE TABLE t (x int)")
        await conn.close()
    asyncio.run(use())
    print("child: used it")
sys.exit(4)
"""


def helper(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HELPER), *args, sys.executable, "-c", CHILD],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != pgscratch.VARIABLE}


def test_a_url_given_already_is_used_as_it_is() -> None:
    given = "postgresql://postgres@127.0.0.1:9/fm_given"
    done = helper(env={**environ(), pgscratch.VARIABLE: given})
    assert done.returncode == 4
    assert done.stdout.splitlines()[0] == f"child: {given}"  # no line of the helper's, no database


def test_without_a_server_the_run_says_the_postgresql_tests_skip() -> None:
    done = helper("--server=postgresql://postgres@127.0.0.1:9/postgres", env=environ())
    assert done.returncode == 4
    said, child = done.stdout.splitlines()
    assert said.startswith("PostgreSQL tests: skipped (no server at 127.0.0.1:9/postgres")
    assert child == "child: none"


def test_with_a_server_a_scratch_database_lives_for_the_run_only() -> None:
    if pgscratch.execute(pgscratch.SERVER, "SELECT 1") is not None:
        pytest.skip(f"no PostgreSQL server at {pgscratch.SERVER}")
    done = helper(env=environ())
    assert done.returncode == 4, done.stderr
    said, child, used = done.stdout.splitlines()
    url = child.removeprefix("child: ")
    assert said == f"PostgreSQL tests: on the scratch database {url}, dropped afterwards"
    assert url.startswith("postgresql://postgres@127.0.0.1:5432/fm_test_")
    assert used == "child: used it"
    name = url.rpartition("/")[2]
    assert pgscratch.execute(pgscratch.scratch_url(pgscratch.SERVER, name), "SELECT 1") is not None
