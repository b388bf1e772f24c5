"""Web analytics reports, the same on both engines but for two spellings each engine gives
(`hour_of`, `prop_of`: store/sqlite/web.py, store/postgres/web.py)."""

from __future__ import annotations

from collections.abc import Mapping

from firstmark.domain.visits import MAX_DURATION_S
from firstmark.domain.web import Sums
from firstmark.store.rows import webrollup
from firstmark.store.rows.web import realtime_query, report_query, sums_from_rows, totals_query
from firstmark.store.sql.executor import Conn, SharedSQL

DAY = webrollup.DAY
DAYS = webrollup.WINDOW_DAYS


class WebSQL(SharedSQL):
    def hour_of(self, column: str) -> str:
        """Hours since the epoch of an epoch-seconds column."""
        raise NotImplementedError

    def prop_of(self, prop: str) -> str:
        """The text of property `prop` (checked: letters, digits, _ . : -) of e.props."""
        raise NotImplementedError

    def same(self, a: str, b: str) -> str:
        """a equals b, NULL equal to NULL."""
        raise NotImplementedError

    async def _before_rebuild(self, tx: Conn, site_id: int) -> None:
        """One rebuild of a site's rollups at a time, and what else the engine sets in its
        transaction (SQLite's one writer already holds the whole database)."""

    async def _fresh_rollup(self, site_id: int, dim: str) -> None:
        """Rebuild the site's rollups of `dim` from the earliest day the writer changed since
        (one rebuild at a time per site; the writer is not held up meanwhile)."""
        if not await self.db.fetchrow("SELECT 1 FROM web_dirty WHERE site_id = ? AND dim = ? "
                                      "LIMIT 1", [site_id, dim]):  # fmt: skip
            return
        statements = webrollup.rebuild_statements(dim, self.same, self.dialect.join_in_order)
        async with self.db.transaction() as tx:
            await self._before_rebuild(tx, site_id)
            days = await tx.fetch("DELETE FROM web_dirty WHERE site_id = ? AND dim = ? "
                                  "RETURNING day", [site_id, dim])  # fmt: skip
            if not days:
                return
            first = min(int(r[0]) for r in days)
            for table in ("web_daily", "web_daily_visitors"):
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

    async def _from_rollup(
        self, site_id: int, key: webrollup.Key, start: float, end: float, by: str | None
    ) -> list[Sums]:
        await self._fresh_rollup(site_id, key[0])
        sums = await self.db.fetch(*webrollup.sums_query(site_id, key, start, end, by))
        people = await self.db.fetch(*webrollup.visitors_query(site_id, key, start, end, by))
        return webrollup.merge(sums, people, grouped=by is not None)

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
