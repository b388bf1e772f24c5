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
    reached_by_visitor,
    steps_from_text,
    steps_to_text,
)
from firstmark.domain.visits import MAX_DURATION_S
from firstmark.store.rows import funnelrollup
from firstmark.store.rows.values import from_epoch
from firstmark.store.rows.web import visit_where
from firstmark.store.sql.executor import Conn, Database, SharedSQL

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
        made = _funnel(rows[0])
        # Built at its first report from the site's first visit on.
        first = await self.db.fetchval(
            "SELECT min(started) FROM visits WHERE site_id = ?", [funnel.site_id]
        )
        if first is not None:
            await self.db.execute(
                "INSERT INTO funnel_dirty (funnel_id, day) VALUES (?, ?)",
                [made.id, int(first // funnelrollup.DAY)],
            )
        return made

    async def get_funnel(self, funnel_id: int) -> Funnel | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM funnels WHERE id = ?", (funnel_id,))
        return _funnel(row) if row else None

    async def list_funnels(self, site_id: int | None = None) -> list[Funnel]:
        where, params = ("WHERE site_id = ?", [site_id]) if site_id is not None else ("", [])
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM funnels {where} ORDER BY id", params)
        return [_funnel(r) for r in rows]

    async def funnel_counts(
        self, funnel: Funnel, filters: Mapping[str, str], start: float, end: float
    ) -> list[int] | None:
        """Visitors per step from the funnel's daily rollup (rebuilt first where the writer
        changed days), where it answers (funnelrollup.applies); else None."""
        if funnel.id is None or not funnelrollup.applies(funnel, filters, start, end):
            return None
        await self._fresh_funnel(funnel)
        rows = await self.db.fetch(*funnelrollup.counts_query(funnel.id, start, end))
        return funnelrollup.counts(funnel, rows)

    async def _refresh_funnels(self, site_id: int) -> int:
        done = 0
        for funnel in await self.list_funnels(site_id):
            if await self.db.fetchrow(  # built: a report read it
                "SELECT 1 FROM funnel_daily WHERE funnel_id = ? LIMIT 1", [funnel.id]
            ):
                done += await self._fresh_funnel(funnel, lag_s=0)
        return done

    async def _fresh_funnel(self, funnel: Funnel, lag_s: float | None = None) -> bool:
        """Rebuild the funnel's rollup from the earliest day the writer changed since, unless
        every mark is younger than `lag_s` (default: the store's `rollup_lag_s`). Whether it
        rebuilt."""
        site, dim = funnel.site_id, funnelrollup.DIRTY_DIM
        old, old_params = self._marked_before(self.rollup_lag_s if lag_s is None else lag_s)
        if await self.db.fetchrow("SELECT 1 FROM web_dirty WHERE site_id = ? AND dim = ?"
                                  f"{old} LIMIT 1", [site, dim, *old_params]):  # fmt: skip
            # The writer's marks of the site go to each of its funnels, the earliest kept.
            async with self.db.transaction() as tx:
                days = await tx.fetch("DELETE FROM web_dirty WHERE site_id = ? AND dim = ? "
                                      "RETURNING day", [site, dim])  # fmt: skip
                if days:
                    await tx.execute(
                        "INSERT INTO funnel_dirty (funnel_id, day) "
                        "SELECT id, CAST(? AS INTEGER) FROM funnels WHERE site_id = ? "
                        "ON CONFLICT (funnel_id) DO UPDATE SET day = CASE WHEN "
                        "excluded.day < funnel_dirty.day THEN excluded.day "
                        "ELSE funnel_dirty.day END",
                        [min(int(r[0]) for r in days), site],
                    )
        if not await self.db.fetchrow(
            "SELECT 1 FROM funnel_dirty WHERE funnel_id = ?", [funnel.id]
        ):
            return False
        async with self.db.transaction() as tx:
            # The row lock makes a second report wait, then find nothing left to rebuild.
            rows = await tx.fetch(
                "DELETE FROM funnel_dirty WHERE funnel_id = ? RETURNING day", [funnel.id]
            )
            if not rows:
                return False
            first = int(rows[0][0])
            for table in ("funnel_daily", "funnel_visitors"):
                await tx.execute(
                    f"DELETE FROM {table} WHERE funnel_id = ? AND day >= ?", [funnel.id, first]
                )
            # Consented visitors' earlier days, read for the visitors each day brings.
            last: funnelrollup.Earlier = {}
            loaded: set[str] = set()
            before = await tx.fetchrow(
                "SELECT 1 FROM funnel_visitors WHERE funnel_id = ? AND day < ? LIMIT 1",
                [funnel.id, first],
            )
            latest = await tx.fetchval("SELECT max(started) FROM visits WHERE site_id = ?",
                                       [site])  # fmt: skip
            final = int(latest // funnelrollup.DAY) if latest is not None else first
            for day in range(first, final + 1):
                lo, hi = day * funnelrollup.DAY, (day + 1) * funnelrollup.DAY
                hits = await self._step_events(tx, site, funnel.steps, {}, lo, hi, 0)
                best = reached_by_visitor(funnel, hits)
                if before:
                    new = sorted(w for w, (r, c) in best.items() if c and r and w not in loaded)
                    loaded.update(new)
                    for at in range(0, len(new), 500):
                        chunk = new[at : at + 500]
                        marks = ", ".join("?" * len(chunk))
                        funnelrollup.add_earlier(funnel, last, await tx.fetch(
                            "SELECT visitor, day, reached FROM funnel_visitors WHERE "
                            f"funnel_id = ? AND day < ? AND visitor IN ({marks})",
                            [funnel.id, first, *chunk],
                        ))  # fmt: skip
                daily, people = funnelrollup.day_rows(funnel, day, best, last)
                if daily:
                    await tx.executemany(
                        "INSERT INTO funnel_daily (funnel_id, day, step, prev_day, n) "
                        "VALUES (?, ?, ?, ?, ?)",
                        daily,
                    )
                if people:
                    await tx.executemany(
                        "INSERT INTO funnel_visitors (funnel_id, day, visitor, reached) "
                        "VALUES (?, ?, ?, ?)",
                        people,
                    )
        return True

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
        return await self._step_events(self.db, site_id, steps, filters, start, end, days)

    async def _step_events(
        self,
        conn: Conn | Database,
        site_id: int,
        steps: Sequence[Step],
        filters: Mapping[str, str],
        start: float,
        end: float,
        days: int,
    ) -> list[StepEvent]:
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
        rows = await conn.fetch(
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
