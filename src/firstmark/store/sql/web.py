"""Web analytics reports, the same on both engines but for two spellings each engine gives
(`hour_of`, `prop_of`: store/sqlite/web.py, store/postgres/web.py)."""

from __future__ import annotations

from collections.abc import Mapping

from firstmark.domain.visits import MAX_DURATION_S
from firstmark.domain.web import Sums
from firstmark.store.rows import eventrollup, funnelrollup, webrollup
from firstmark.store.rows.web import realtime_query, report_query, sums_from_rows, totals_query
from firstmark.store.sql.executor import Conn, SharedSQL

DAY = webrollup.DAY
DAYS = webrollup.WINDOW_DAYS


class WebSQL(SharedSQL):
    def hour_of(self, column: str) -> str:
        """Hours since the epoch of an epoch-seconds column."""
        raise NotImplementedError

    def prop_of(self, prop: str, alias: str = "e") -> str:
        """The text of property `prop` (checked: letters, digits, _ . : -) of an event's
        props (`alias`: the events table's name in the query)."""
        raise NotImplementedError

    def same(self, a: str, b: str) -> str:
        """a equals b, NULL equal to NULL."""
        raise NotImplementedError

    async def _before_rebuild(self, tx: Conn, site_id: int) -> None:
        """One rebuild of a site's rollups at a time, and what else the engine sets in its
        transaction (SQLite's one writer already holds the whole database)."""

    async def _hand_over_events(self, site_id: int) -> None:
        """The writer's marks of the site's events go to each events rollup its reports
        asked for (the earliest day and mark kept)."""
        dim = eventrollup.DIRTY_DIM
        if not await self.db.fetchrow("SELECT 1 FROM web_dirty WHERE site_id = ? AND dim = ? "
                                      "LIMIT 1", [site_id, dim]):  # fmt: skip
            return
        async with self.db.transaction() as tx:
            rows = await tx.fetch("DELETE FROM web_dirty WHERE site_id = ? AND dim = ? "
                                  "RETURNING day, marked_at", [site_id, dim])  # fmt: skip
            if rows:
                await tx.execute(
                    "INSERT INTO web_dirty (site_id, day, dim, marked_at) "
                    "SELECT site_id, CAST(? AS INTEGER), dim, CAST(? AS DOUBLE PRECISION) "
                    "FROM web_event_dims WHERE site_id = ? ON CONFLICT (site_id, dim, day) "
                    "DO UPDATE SET marked_at = CASE WHEN excluded.marked_at < "
                    "web_dirty.marked_at THEN excluded.marked_at ELSE web_dirty.marked_at END",
                    [min(int(r[0]) for r in rows), min(float(r[1]) for r in rows), site_id],
                )

    async def _fresh_rollup(self, site_id: int, dim: str, lag_s: float | None = None) -> bool:
        """Rebuild the site's rollups of `dim` from the earliest day the writer changed since
        (one rebuild at a time per site; the writer is not held up meanwhile), unless every
        mark is younger than `lag_s` (default: the store's `rollup_lag_s`, which the rollup
        refresher sets). Whether it rebuilt."""
        tables = eventrollup.TABLES if eventrollup.is_event_dim(dim) else webrollup.TABLES
        lag = self.rollup_lag_s if lag_s is None else lag_s
        marked = "SELECT 1 FROM web_dirty WHERE site_id = ? AND dim = ?"
        old, old_params = self._marked_before(lag)
        if not await self.db.fetchrow(f"{marked}{old} LIMIT 1", [site_id, dim, *old_params]):
            # Only young marks: the refresher has them in hand, unless nobody read the dim yet.
            if not old or not await self.db.fetchrow(f"{marked} LIMIT 1", [site_id, dim]):
                return False
            if await self.db.fetchrow(f"SELECT 1 FROM {tables[0]} WHERE site_id = ? AND "
                                      "dim = ? LIMIT 1", [site_id, dim]):  # fmt: skip
                return False
        if eventrollup.is_event_dim(dim):
            statements = eventrollup.rebuild_statements(
                dim, self.same, self.dialect.join_in_order, self.prop_of
            )
        else:
            statements = webrollup.rebuild_statements(dim, self.same, self.dialect.join_in_order)
        async with self.db.transaction() as tx:
            await self._before_rebuild(tx, site_id)
            days = await tx.fetch("DELETE FROM web_dirty WHERE site_id = ? AND dim = ? "
                                  "RETURNING day", [site_id, dim])  # fmt: skip
            if not days:
                return False
            first = min(int(r[0]) for r in days)
            for table in tables:
                await tx.execute(
                    f"DELETE FROM {table} WHERE site_id = ? AND dim = ? AND day >= ?",
                    [site_id, dim, first],
                )
            # The latest start, through the index by site and start (no index has the day).
            latest = await tx.fetchval(
                "SELECT max(started) FROM visits WHERE site_id = ?", [site_id]
            )
            last = int(latest // DAY) if latest is not None else first
            for day in range(first, last + 1, DAYS):
                lo, hi = day * DAY, (day + DAYS) * DAY
                names = {"site": site_id, "lo": lo, "hi": hi, "hi+": hi + MAX_DURATION_S}
                for sql, params in statements:
                    await tx.execute(sql, [names[p] for p in params])
        return True

    async def _from_rollup(
        self, site_id: int, key: webrollup.Key, start: float, end: float, by: str | None
    ) -> list[Sums]:
        await self._fresh_rollup(site_id, key[0])
        sums = await self.db.fetch(*webrollup.sums_query(site_id, key, start, end, by))
        people = await self.db.fetch(*webrollup.visitors_query(site_id, key, start, end, by))
        return webrollup.merge(sums, people, grouped=by is not None)

    async def _from_event_rollup(
        self, site_id: int, key: eventrollup.Key, start: float, end: float
    ) -> list[Sums]:
        dim = key[0]
        known = "SELECT 1 FROM web_event_dims WHERE site_id = ? AND dim = ?"
        if not await self.db.fetchrow(known, [site_id, dim]) and await self.db.write(
            "INSERT INTO web_event_dims (site_id, dim) VALUES (?, ?) ON CONFLICT DO NOTHING "
            "RETURNING dim",
            [site_id, dim],
        ):  # built now, from the site's first visit on
            first = await self.db.fetchval(
                "SELECT min(started) FROM visits WHERE site_id = ?", [site_id]
            )
            if first is not None:
                await self.db.execute(
                    "INSERT INTO web_dirty (site_id, day, dim) VALUES (?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    [site_id, int(first // DAY), dim],
                )
        await self._hand_over_events(site_id)
        await self._fresh_rollup(site_id, dim)
        sums = await self.db.fetch(*eventrollup.sums_query(site_id, key, start, end))
        people = await self.db.fetch(*eventrollup.visitors_query(site_id, key, start, end))
        return eventrollup.merge(sums, people)

    async def refresh_rollups(self) -> int:
        """Rebuild the days the writer changed of every rollup a report has read (a rollup
        nobody read stays for its first report to build), funnels included: the rollup
        refresher's round. How many rollups it rebuilt."""
        done = 0
        for (site_id,) in await self.db.fetch(
            "SELECT DISTINCT site_id FROM web_dirty WHERE dim = ?", [eventrollup.DIRTY_DIM]
        ):
            await self._hand_over_events(int(site_id))
        for site_id, dim in await self.db.fetch(
            "SELECT DISTINCT site_id, dim FROM web_dirty ORDER BY site_id, dim"
        ):
            site_id = int(site_id)
            if dim == funnelrollup.DIRTY_DIM:
                done += await self._refresh_funnels(site_id)
                continue
            if not eventrollup.is_event_dim(dim) and not await self.db.fetchrow(
                f"SELECT 1 FROM {webrollup.TABLES[0]} WHERE site_id = ? AND dim = ? LIMIT 1",
                [site_id, dim],
            ):
                continue  # never read
            done += await self._fresh_rollup(site_id, dim, lag_s=0)
        return done

    async def web_report(
        self,
        report: str,
        site_id: int,
        filters: Mapping[str, str],
        start: float,
        end: float,
        event_name: str | None = None,
        prop: str | None = None,
    ) -> list[Sums]:
        if report == "events":
            found = eventrollup.key_of(event_name, prop, filters, start, end)
            if found is not None:
                return await self._from_event_rollup(site_id, found, start, end)
        key = webrollup.key_of(report, filters, start, end)
        if key is not None:
            return await self._from_rollup(site_id, key, start, end, "value")
        sql, params = report_query(
            report, site_id, filters, start, end,
            prop_expr=self.prop_of(prop) if prop else "", event_name=event_name,
            join=self.dialect.join_in_order,
        )  # fmt: skip
        return sums_from_rows(await self.db.fetch(sql, params))

    async def web_totals(
        self,
        site_id: int,
        filters: Mapping[str, str],
        start: float,
        end: float,
        interval: str | None = None,
    ) -> list[Sums]:
        key = webrollup.key_of(None, filters, start, end)
        if key is not None and interval != "hour":
            by = "day" if interval == "day" else None
            return await self._from_rollup(site_id, key, start, end, by)
        bucket = None
        if interval == "day":
            bucket = "v.day"
        elif interval == "hour":
            bucket = self.hour_of("v.started")
        sql, params = totals_query(site_id, filters, start, end, bucket)
        return sums_from_rows(await self.db.fetch(sql, params))

    async def web_realtime(self, site_id: int, filters: Mapping[str, str], since: float) -> int:
        sql, params = realtime_query(site_id, filters, since)
        return int(await self.db.fetchval(sql, params) or 0)
