"""Web analytics reports, the same on both engines but for two spellings each engine gives
(`hour_of`, `prop_of`: store/sqlite/web.py, store/postgres/web.py)."""

from __future__ import annotations

from collections.abc import Mapping

from firstmark.domain.web import Sums
from firstmark.store.rows.web import realtime_query, report_query, sums_from_rows, totals_query
from firstmark.store.sql.executor import SharedSQL


class WebSQL(SharedSQL):
    def hour_of(self, column: str) -> str:
        """Hours since the epoch of an epoch-seconds column."""
        raise NotImplementedError

    def prop_of(self, prop: str) -> str:
        """The text of property `prop` (checked: letters, digits, _ . : -) of e.props."""
        raise NotImplementedError

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
