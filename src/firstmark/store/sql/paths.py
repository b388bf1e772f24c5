"""Touch paths for data-driven attribution and the paths report, counted by the database.

Converting paths are read from the stored linear credits (every touch of a journey has one,
numbered by step), so they are exactly the journeys the other models shared out; the revenue
of a path is the sum of its cents. Non-converting paths are the touches of visitors (touches
are stored with analytics consent only) who had no conversion in the range. Both come back
grouped by the path's text, each step's group written as `=value` or `~` for none, steps
joined by a unit separator, so a million visitors are a few thousand rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from firstmark.domain.paths import ConvertingPath, LostPath, PathData
from firstmark.store.rows.reports import CREDIT_DIMENSIONS
from firstmark.store.rows.values import check_column
from firstmark.store.sql.executor import SharedSQL

UNIT = "\x1f"  # between the values of one step
STEP = "\x1e"  # between steps
_INTEGERS = ("link", "day")
# A touch's dimension as the credits store it: a direct visit reads (direct) / (none).
_DIRECT = "(t.link_id IS NULL AND coalesce(t.utm_source, '') = '' AND t.click_ids = '{}')"
_TOUCH = {
    "source": f"CASE WHEN {_DIRECT} THEN '(direct)' ELSE t.utm_source END",
    "medium": f"CASE WHEN {_DIRECT} THEN '(none)' ELSE t.utm_medium END",
    "campaign": "t.utm_campaign",
    "content": "t.utm_content",
    "link": "t.link_id",
}


class PathSQL(SharedSQL):
    # The engine's spellings: an aggregate joining the steps of a group in `order`, the
    # tables read in that order where the engine needs it (credits by time, conversion and
    # step; touches by visitor and time), a character by its code, the whole day (since the
    # epoch) of a time in seconds.
    concat: str  # format(expr=..., sep=..., order=...)
    credits_in_order: str  # attribution_credits as a
    touches_in_order: str  # touches as t
    char: str  # format(code)
    day_of: str  # format(ts=...)

    def ordered_concat(self, expr: str, order: str) -> str:
        return self.concat.format(expr=expr, sep=self.char.format(30), order=order)

    def _key(self, dims: Sequence[str], column: Any) -> str:
        sep = f" || {self.char.format(31)} || "
        return sep.join(f"coalesce('=' || CAST({column(d)} AS TEXT), '~')" for d in dims)

    async def touch_paths(
        self,
        dims: Sequence[str],
        start: float,
        end: float,
        currency: str | None,
        goal_id: int | None = None,
    ) -> PathData:
        """Converting paths of the conversions in [start, end) (of one goal, if given) in
        `currency` or none, and non-converting paths of visitors with touches in the range."""
        for dim in dims:
            check_column(dim, tuple(CREDIT_DIMENSIONS), "group_by")
        credit_key = self._key(dims, lambda d: f"a.{CREDIT_DIMENSIONS[d]}")
        goal = " AND a.conversion_id IN (SELECT id FROM conversions WHERE goal_id = ?)"
        day = self.day_of.format(ts="a.ts")
        converting = await self.db.fetch(
            "SELECT path, days, count(*), sum(units) FROM ("
            f"SELECT {self.ordered_concat(credit_key, 'a.step')} AS path, "
            f"{day} - min(a.day) AS days, "
            "sum(CASE WHEN a.currency = ? THEN a.units ELSE 0 END) AS units "
            f"FROM {self.credits_in_order} WHERE a.model = 'linear' AND a.ts >= ? AND a.ts < ? "
            f"AND (a.currency IS NULL OR a.currency = ?){goal if goal_id is not None else ''} "
            "GROUP BY a.ts, a.conversion_id) p GROUP BY path, days",
            (
                currency, float(start), float(end), currency,
                *((goal_id,) if goal_id is not None else ()),
            ),
        )  # fmt: skip
        day_t = self.day_of.format(ts="t.ts")
        touch_key = self._key(dims, lambda d: day_t if d == "day" else _TOUCH[d])
        also = " AND c.goal_id = ?" if goal_id is not None else ""
        # One after the other: side by side on two read connections they took longer (2.3 s
        # against 2.1 s for a million paths on two cores).
        lost = await self.db.fetch(
            "SELECT path, count(*) FROM ("
            f"SELECT t.visitor_id, {self.ordered_concat(touch_key, 't.ts, t.id')} AS path "
            f"FROM {self.touches_in_order} WHERE t.visitor_id IS NOT NULL AND t.ts >= ? "
            "AND t.ts < ? GROUP BY t.visitor_id) p "
            "WHERE NOT EXISTS (SELECT 1 FROM conversions c WHERE c.visitor_id = p.visitor_id "
            f"AND c.ts >= ? AND c.ts < ?{also}) GROUP BY path",
            (
                float(start), float(end), float(start), float(end),
                *((goal_id,) if goal_id is not None else ()),
            ),
        )  # fmt: skip
        return PathData(
            [ConvertingPath(_steps(r[0], dims), int(r[1]), int(r[2]), int(r[3] or 0))
             for r in converting],
            [LostPath(_steps(r[0], dims), int(r[1])) for r in lost],
        )  # fmt: skip

    async def path_version(self) -> tuple[Any, ...]:
        """Changes whenever a touch or conversion is added or purged, or a conversion is shared
        out: what a cached path count is checked against."""
        row = await self.db.fetchrow(
            "SELECT (SELECT max(id) FROM touches), (SELECT min(id) FROM touches), "
            "(SELECT max(id) FROM conversions), (SELECT count(*) FROM credited)"
        )
        return tuple(row) if row is not None else ()


def _steps(text: str | None, dims: Sequence[str]) -> tuple[tuple[Any, ...], ...]:
    if not text:
        return ()
    return tuple(_step(part, dims) for part in text.split(STEP))


def _step(text: str, dims: Sequence[str]) -> tuple[Any, ...]:
    values = text.split(UNIT)
    return tuple(
        None if v == "~" else int(float(v[1:])) if d in _INTEGERS else v[1:]
        for v, d in zip(values, dims, strict=True)
    )
