"""Run a command (`make test` runs the suite) with the PostgreSQL tests on a scratch database.

    python tests/pgscratch.py [--server=postgresql://…/postgres] .venv/bin/pytest -q

When FIRSTMARK_TEST_POSTGRES_URL is set already (`.ci/run` sets it), the command runs as it is.
Otherwise, when a PostgreSQL server answers on 127.0.0.1:5432 (user postgres, trust), a
database is created for the run, named in FIRSTMARK_TEST_POSTGRES_URL, and dropped after it,
whatever the outcome; without a server the command runs and the PostgreSQL tests skip. Either
way one line says which. The exit status is the command's.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Sequence

VARIABLE = "FIRSTMARK_TEST_POSTGRES_URL"
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


async def _execute(server: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server, timeout=2)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def execute(server: str, statement: str) -> str | None:
    """None once `statement` ran on `server`, else why it could not."""
    try:
        asyncio.run(_execute(server, statement))
    except (OSError, TimeoutError) as exc:
        return str(exc) or type(exc).__name__
    except Exception as exc:  # asyncpg's own errors: authentication, permissions …
        return f"{type(exc).__name__}: {exc}"
    return None


def scratch_url(server: str, name: str) -> str:
    """The server's URL with its database replaced by `name`."""
    base, _, _ = server.rpartition("/")
    return f"{base}/{name}"


def main(command: Sequence[str], server: str = SERVER) -> int:
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    if os.environ.get(VARIABLE):
        return subprocess.call(command)
    name = f"fm_test_{secrets.token_hex(4)}"
    why = execute(server, f"CREATE DATABASE {name}")
    if why is not None:
        print(
            f"PostgreSQL tests: skipped (no server at {server.rpartition('@')[2]}: {why}; "
            f"set {VARIABLE} to use one)",
            flush=True,
        )
        return subprocess.call(command)
    url = scratch_url(server, name)
    print(f"PostgreSQL tests: on the scratch database {url}, dropped afterwards", flush=True)
    try:
        return subprocess.call(command, env={**os.environ, VARIABLE: url})
    except KeyboardInterrupt:
        return 130
    finally:
        execute(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0].startswith("--server="):
        sys.exit(main(args[1:], args[0].removeprefix("--server=")))
    sys.exit(main(args))
