"""SQLite: the sums reports are made of (mixed into SQLiteStore).

Traffic comes from the daily rollups (rollup_day) joined to the links' UTM tags, so reports
work in whole days, conversions from the
conversions table (credited to their last non-direct touch when they were stored), journeys
from the touches of each converting visitor or click token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from firstmark.domain.reports import DIMENSIONS, ConversionTotal, Journey, TrafficTotal
from firstmark.store.base import (
    check_column,
    money,
)
from firstmark.store.eventrows import journeys_from_rows, merge_steps

# A report dimension as (links column, conversions column); conversions keep the UTM tags of
# the touch they were credited to, else take their link's (a click token names only a link).
REPORT_DIMENSIONS = {
    "source": ("l.utm_source", "coalesce(c.utm_source, l.utm_source)"),
    "medium": ("l.utm_medium", "coalesce(c.utm_medium, l.utm_medium)"),
    "campaign": ("l.utm_campaign", "coalesce(c.utm_campaign, l.utm_campaign)"),
    "content": ("l.utm_content", "l.utm_content"),
    "link": ("l.id", "c.link_id"),
    "day": ("r.day", "CAST(c.ts / 86400 AS INTEGER)"),  # days since the epoch
}
assert set(REPORT_DIMENSIONS) == set(DIMENSIONS)


def _dimensions(dims: Sequence[str], side: int) -> tuple[str, str]:
    """(select list with a trailing comma, GROUP BY list) of report dimensions for one table
    (side 0: links, side 1: conversions)."""
    for dim in dims:
        check_column(dim, tuple(REPORT_DIMENSIONS), "group_by")
    columns = [REPORT_DIMENSIONS[d][side] for d in dims]
    return "".join(f"{c}, " for c in columns), ", ".join(columns)


class SQLiteReports:
    """Needs the host store's `_all`."""

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def traffic_totals(
        self, dims: Sequence[str], start: float, end: float
    ) -> list[TrafficTotal]:
        select, group = _dimensions(dims, 0)
        # By day alone (the overview), the all-links table has a row a day instead of a row
        # per link and day.
        source = (
            "rollup_totals r"
            if set(dims) <= {"day"}
            else "rollup_day r JOIN links l ON l.id = r.link_id"
        )
        rows = await self._all(
            f"SELECT {select}coalesce(sum(r.hits), 0), coalesce(sum(r.bot_hits), 0), "
            "coalesce(sum(r.uniques), 0), "
            "coalesce(sum(CASE WHEN r.kind = 'click' THEN r.hits - r.bot_hits END), 0), "
            "coalesce(sum(CASE WHEN r.kind = 'scan' THEN r.hits - r.bot_hits END), 0) "
            f"FROM {source} WHERE r.day >= ? AND r.day < ?"
            + (f" GROUP BY {group}" if group else ""),
            (int(start // 86400), -(-end // 86400)),
        )
        n = len(dims)
        return [TrafficTotal(tuple(r[:n]), *(int(v) for v in r[n:])) for r in rows if r[n]]

    async def conversion_totals(
        self, dims: Sequence[str], start: float, end: float
    ) -> list[ConversionTotal]:
        select, group = _dimensions(dims, 1)
        rows = await self._all(
            f"SELECT {select}c.currency, count(*), coalesce(sum(c.value), 0) "
            "FROM conversions c LEFT JOIN links l ON l.id = c.link_id "
            "WHERE c.ts >= ? AND c.ts < ? GROUP BY "
            + (f"{group}, " if group else "")
            + "c.currency",
            (start, end),
        )
        n = len(dims)
        return [ConversionTotal(tuple(r[:n]), r[n], int(r[n + 1]), money(r[n + 2])) for r in rows]

    async def conversion_journeys(self, start: float, end: float) -> list[Journey]:
        """Every conversion in [start, end) with the touches of its visitor or click token
        inside its goal's window, oldest first."""
        conversions = await self._all(
            "SELECT c.id, c.ts, c.value, c.currency, g.window_days, c.link_id, "
            "coalesce(c.utm_source, l.utm_source), coalesce(c.utm_medium, l.utm_medium), "
            "coalesce(c.utm_campaign, l.utm_campaign) FROM conversions c "
            "JOIN goals g ON g.id = c.goal_id LEFT JOIN links l ON l.id = c.link_id "
            "WHERE c.ts >= ? AND c.ts < ? ORDER BY c.id",
            (start, end),
        )
        # A Step per touch; "direct" as events.Touch.direct reads it.
        step = (
            "t.ts, (t.link_id IS NULL AND coalesce(t.utm_source, '') = '' "
            "AND t.click_ids = '{}'), t.link_id, t.utm_source, t.utm_medium, t.utm_campaign, "
            "t.utm_content"
        )
        window = "t.ts >= c.ts - g.window_days * 86400 AND t.ts <= c.ts"
        by_visitor = await self._all(
            f"SELECT c.id, t.id, {step} FROM conversions c JOIN goals g ON g.id = c.goal_id "
            f"JOIN touches t ON t.visitor_id = c.visitor_id AND {window} "
            "WHERE c.ts >= ? AND c.ts < ? AND c.visitor_id IS NOT NULL ORDER BY c.id, t.ts",
            (start, end),
        )
        # CROSS JOIN keeps the order: from the few conversions with a token to their touches.
        by_token = await self._all(
            f"SELECT c.id, t.id, {step} FROM conversions c JOIN goals g ON g.id = c.goal_id "
            f"CROSS JOIN touches t ON t.click_token = c.click_token AND {window} "
            "WHERE c.ts >= ? AND c.ts < ? AND c.click_token IS NOT NULL",
            (start, end),
        )
        touches = merge_steps(by_visitor, by_token)
        return journeys_from_rows(conversions, touches)
