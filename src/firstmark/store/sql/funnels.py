"""Funnels and the events their reports read, the same on both engines."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from firstmark.domain.funnels import (
    Funnel,
    Step,
    StepEvent,
    like_pattern,
    steps_from_text,
    steps_to_text,
)
from firstmark.domain.visits import MAX_DURATION_S
from firstmark.store.rows.values import from_epoch
from firstmark.store.rows.web import visit_where
from firstmark.store.sql.executor import SharedSQL

_COLUMNS = "id, site_id, name, steps, within, days, created_at"


def _funnel(row: Sequence[Any]) -> Funnel:
    fid, site_id, name, steps, within, days, created = row
    return Funnel(int(site_id), name, steps_from_text(steps), within, int(days), int(fid),
                  from_epoch(created))  # fmt: skip


class FunnelSQL(SharedSQL):
    async def insert_funnel(self, funnel: Funnel) -> Funnel:
        rows = await self.db.write(
            "INSERT INTO funnels (site_id, name, steps, within, days, created_at) "
            f"VALUES (?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
            (funnel.site_id, funnel.name, steps_to_text(funnel.steps), funnel.within,
             funnel.days, int(time.time())),
        )  # fmt: skip
        return _funnel(rows[0])

    async def get_funnel(self, funnel_id: int) -> Funnel | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM funnels WHERE id = ?", (funnel_id,))
        return _funnel(row) if row else None

    async def list_funnels(self, site_id: int | None = None) -> list[Funnel]:
        where, params = ("WHERE site_id = ?", [site_id]) if site_id is not None else ("", [])
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM funnels {where} ORDER BY id", params)
        return [_funnel(r) for r in rows]

    async def funnel_hits(
        self,
        site_id: int,
        steps: Sequence[Step],
        filters: Mapping[str, str],
        start: float,
        end: float,
        days: int = 0,
    ) -> list[StepEvent]:
        """The human events of a site's visits started in [start, end) passing the filters
        that may be a step (a page matching a pattern, an event of a step's name), up to
        `days` days after `end` for funnels across visits; oldest first."""
        where, params = visit_where(site_id, filters, since=start, until=end)
        pages = [s.match for s in steps if s.kind == "page"]
        names = sorted({s.match for s in steps if s.kind == "event"})
        wanted: list[str] = []
        values: list[Any] = []
        if pages:
            likes = " OR ".join("e.path LIKE ? ESCAPE '\\'" for _ in pages)
            wanted.append(f"(e.kind = 'pageview' AND ({likes}))")
            values.extend(like_pattern(p) for p in pages)
        if names:
            wanted.append(f"(e.kind <> 'pageview' AND e.name IN ({', '.join('?' * len(names))}))")
            values.extend(names)
        rows = await self.db.fetch(
            "SELECT e.visit_key, e.visit_started, coalesce(v.visitor_id, v.visitor_day_hash), "
            "v.visitor_id IS NOT NULL, e.ts, e.kind, e.path, e.name FROM events e "
            f"{self.dialect.join_in_order} visits v ON v.site_id = e.site_id "
            "AND v.key = e.visit_key "
            "AND v.started = e.visit_started "
            f"WHERE e.site_id = ? AND e.ts >= ? AND e.ts < ? AND NOT e.is_bot "
            f"AND ({' OR '.join(wanted)}) AND {where} ORDER BY e.ts",
            [site_id, start, end + MAX_DURATION_S + days * 86400, *values, *params],
        )
        return [
            StepEvent((r[0], float(r[1])), r[2], bool(r[3]), float(r[4]), r[5], r[6], r[7])
            for r in rows
        ]
