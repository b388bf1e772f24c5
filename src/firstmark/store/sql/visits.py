"""Visits, the same on both engines: stored by the event writer in its batch's transaction
(sql/events.py), looked up when the writer does not hold a key's open visit, and listed."""

from __future__ import annotations

from collections.abc import Sequence

from firstmark.domain.visits import MAX_DURATION_S, Visit
from firstmark.store.rows.visits import (
    UPSERT_VISIT,
    VISIT_SELECT,
    latest_by_key,
    visit_from_row,
    visit_params,
)
from firstmark.store.sql.executor import Conn, SharedSQL

_CHUNK = 500


class VisitSQL(SharedSQL):
    async def _upsert_visits(self, tx: Conn, visits: Sequence[Visit]) -> None:
        if visits:
            await tx.executemany(UPSERT_VISIT, [visit_params(v) for v in visits])

    async def open_visits(self, keys: Sequence[tuple[int, str]], since: float) -> list[Visit]:
        """The latest visit of each (site id, key) with an event at or after `since`. None
        started before `earliest_start(since)` can take a later event: bounding the start lets
        SQLite's key (site, start, key) serve the lookup."""
        by_site: dict[int, list[str]] = {}
        for site_id, key in keys:
            by_site.setdefault(site_id, []).append(key)
        found: list[Visit] = []
        for site_id, names in by_site.items():
            for start in range(0, len(names), _CHUNK):
                part = names[start : start + _CHUNK]
                rows = await self.db.fetch(
                    f"{VISIT_SELECT} WHERE site_id = ? AND key IN ({', '.join('?' * len(part))}) "
                    "AND last_ts >= ? AND started >= ?",
                    [site_id, *part, float(since), earliest_start(since)],
                )
                found.extend(visit_from_row(r) for r in rows)
        return latest_by_key(found)

    async def list_visits(self, site_id: int, limit: int = 100) -> list[Visit]:
        """A site's latest visits, newest first (bots included: `is_bot` tells them apart)."""
        rows = await self.db.fetch(
            f"{VISIT_SELECT} WHERE site_id = ? ORDER BY started DESC, id DESC LIMIT ?",
            (site_id, limit),
        )
        return [visit_from_row(r) for r in rows]


def earliest_start(since: float) -> float:
    """No visit that started before this can take an event at or after `since`
    (domain/visits.py cuts a visit at MAX_DURATION_S)."""
    return float(since) - MAX_DURATION_S
