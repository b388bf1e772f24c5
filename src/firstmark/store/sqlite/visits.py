"""SQLite: open visits told from the writer's memory while this process holds the database
(openvisits.py, ADR 0039); looked up in the table otherwise, like PostgreSQL (sql/visits.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from firstmark.domain.visits import Visit
from firstmark.store.rows.visits import (
    VISIT_COLUMNS,
    VISIT_SELECT,
    latest_by_key,
    visit_from_row,
)
from firstmark.store.sql.executor import Conn
from firstmark.store.sql.visits import VisitSQL, earliest_start
from firstmark.store.sqlite.openvisits import OpenVisits, recovery_since

_CHUNK = 300  # three bound values each, well under SQLite's limit
# A row-value IN (VALUES …) scans the table; a join from the values searches the key.
_SELECT_AT = f"SELECT v.id, {', '.join(f'v.{c}' for c in VISIT_COLUMNS)} FROM"
_SAME_VISIT = "v.site_id = w.column1 AND v.started = w.column2 AND v.key = w.column3"


class SQLiteVisits(VisitSQL):
    if TYPE_CHECKING:
        path: str
        _open_visits: OpenVisits

        async def _statement(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

    async def _upsert_visits(self, tx: Conn, visits: Sequence[Visit]) -> None:
        await super()._upsert_visits(tx, visits)
        if visits and self._open_visits.ready:
            version = await tx.fetchval("PRAGMA data_version")
            last_id = await tx.fetchval("SELECT max(id) FROM visits")
            self._open_visits.stored(int(version), int(last_id or 0))

    async def open_visits(self, keys: Sequence[tuple[int, str]], since: float) -> list[Visit]:
        memory = self._open_visits
        if not keys or not memory.claim(self.path):
            return await super().open_visits(keys, since)
        # data_version of the writer's connection: it changes only when another one commits.
        [(version,)] = await self._statement("PRAGMA data_version")
        if not memory.ready:
            await self._rebuild(recovery_since(since), {site for site, _ in keys})
        elif version != memory.version:
            rows = await self.db.fetch(f"{VISIT_SELECT} WHERE id > ? ORDER BY id", [memory.last_id])
            memory.add(visit_from_row(r) for r in rows)
            memory.last_id = max([memory.last_id, *(int(r[0]) for r in rows)])
            memory.version = version
        if not memory.covers(since):  # events older than memory keeps (a batch retried late)
            return await super().open_visits(keys, since)
        return await self._visits_at(memory.starts(keys), since)

    async def _rebuild(self, since: float, sites: set[int]) -> None:
        """Every visit with an event since `since`, from the rows, by site and start."""
        [(version,)] = await self._statement("PRAGMA data_version")
        last_id = int(await self.db.fetchval("SELECT coalesce(max(id), 0) FROM visits"))
        sites |= {int(r[0]) for r in await self.db.fetch("SELECT id FROM sites")}
        found: list[Visit] = []
        for site_id in sorted(sites):
            rows = await self.db.fetch(
                f"{VISIT_SELECT} WHERE site_id = ? AND started >= ? AND last_ts >= ?",
                [site_id, earliest_start(since), since],
            )
            found.extend(visit_from_row(r) for r in rows)
        found.sort(key=lambda v: v.last_ts)
        self._open_visits.rebuilt(since, last_id, version, found)

    async def _visits_at(
        self, starts: Sequence[tuple[int, str, float]], since: float
    ) -> list[Visit]:
        """The visits of these exact (site, key, start), with an event since `since`; the latest
        of each key."""
        found: list[Visit] = []
        for begin in range(0, len(starts), _CHUNK):
            part = starts[begin : begin + _CHUNK]
            rows = await self.db.fetch(
                f"{_SELECT_AT} (VALUES {', '.join(['(?, ?, ?)'] * len(part))}) w "
                f"CROSS JOIN visits v ON {_SAME_VISIT} WHERE v.last_ts >= ?",
                [v for site, key, started in part for v in (site, started, key)] + [since],
            )
            found.extend(visit_from_row(r) for r in rows)
        return latest_by_key(found)
