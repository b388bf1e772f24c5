"""PostgreSQL's spellings for web reports: the hour of a timestamp, a property of an event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from firstmark.store.postgres.turns import turn
from firstmark.store.sql.executor import Conn
from firstmark.store.sql.web import WebSQL

if TYPE_CHECKING:
    import asyncpg

# A rebuild of one site's web rollups at a time, across nodes: this and the site id.
WEB_LOCK = 0x66_6D_77_72 << 32  # "fmwr"
# One rollup refresher at a time across nodes.
REFRESH_LOCK = 0x46_4D_52_46  # "FMRF"


class PostgresWeb(WebSQL):
    if TYPE_CHECKING:

        def _conn(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...

    @asynccontextmanager
    async def rollup_lock(self) -> AsyncIterator[bool]:
        """Whether this node runs the rollup refresher's round (held until the block ends):
        another node refreshing now means this one skips its turn."""
        async with turn(self._conn(), REFRESH_LOCK) as got:
            yield got

    def hour_of(self, column: str) -> str:
        return f"CAST(floor({column} / 3600) AS BIGINT)"  # CAST alone would round

    def prop_of(self, prop: str, alias: str = "e") -> str:
        return f"({alias}.props::jsonb ->> '{prop}')"

    def same(self, a: str, b: str) -> str:
        return f"{a} IS NOT DISTINCT FROM {b}"

    async def _before_rebuild(self, tx: Conn, site_id: int) -> None:
        # Not a lock on the site's row: every event insert takes a key share lock on it.
        await tx.execute("SELECT pg_advisory_xact_lock(?)", (WEB_LOCK | (site_id & 0xFFFFFFFF),))
        # The rebuild's statements look costly to the planner, and compiling them took longer
        # than running them.
        await tx.execute("SET LOCAL jit = off")
