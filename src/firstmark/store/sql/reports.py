"""The sums reports are made of, the same on both engines.

Traffic comes from the daily rollups (rollup_day) joined to the links' UTM tags, so reports
work in whole days; conversions from the conversions table (credited to their last
non-direct touch when they were stored); journeys from the touches of each converting
visitor or click token. Groups come back in one order on both engines: NULL first, text by
code point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from firstmark.domain.reports import (
    ConversionTotal,
    Credits,
    CreditTotal,
    Journey,
    TrafficTotal,
    VisitTotal,
)
from firstmark.store.rows.reports import (
    CREDIT_COLUMNS,
    JOURNEY_CONVERSIONS,
    JOURNEY_STEP,
    JOURNEY_WINDOW,
    ROLLED_DIMENSIONS,
    SUM_CREDIT_DAY,
    TAKE_DIRTY_DAYS,
    UNCREDITED,
    conversion_totals_from_rows,
    conversions_source,
    credit_params,
    credit_totals_from_rows,
    credit_totals_query,
    dimension_columns,
    journeys_from_rows,
    merge_steps,
    traffic_from_rows,
    traffic_query,
    visit_totals_from_rows,
    visit_totals_query,
)
from firstmark.store.rows.values import day_span
from firstmark.store.sql.executor import SharedSQL

_TEXT_DIMENSIONS = ("source", "medium", "campaign", "content")
DAY = 86_400


class ReportSQL(SharedSQL):
    # Each report dimension as (links column, conversions column): rows.reports
    # report_dimensions with the engine's day of a conversion.
    dimensions: dict[str, tuple[str, str]]

    def _dimensions(self, dims: Sequence[str], side: int) -> tuple[str, str, str]:
        """(select list with a trailing comma, GROUP BY list, ORDER BY list with a trailing
        comma) of report dimensions for one table (side 0: links, side 1: conversions)."""
        columns = dimension_columns(self.dimensions, dims, side)
        collate = self.dialect.collate
        order = "".join(
            f"{c}{collate} NULLS FIRST, " if d in _TEXT_DIMENSIONS else f"{c} NULLS FIRST, "
            for c, d in zip(columns, dims, strict=True)
        )
        return "".join(f"{c}, " for c in columns), ", ".join(columns), order

    async def save_credits(self, credits: Sequence[Credits]) -> None:
        """Store conversions' credits, mark them credited and their days' rollup as changed,
        in one transaction."""
        if not credits:
            return
        marks = ", ".join("?" * len(CREDIT_COLUMNS))
        async with self.db.transaction() as tx:
            await tx.executemany(
                f"INSERT INTO attribution_credits ({', '.join(CREDIT_COLUMNS)}) "
                f"VALUES ({marks}) ON CONFLICT DO NOTHING",
                # in time order (the key's start): each page is written once
                sorted(credit_params(credits), key=itemgetter(1, 0)),
            )
            await tx.executemany(
                "INSERT INTO credited (conversion_id) VALUES (?) ON CONFLICT DO NOTHING",
                [(c.conversion_id,) for c in credits],
            )
            await tx.executemany(
                "INSERT INTO credit_dirty (day) VALUES (?) ON CONFLICT DO NOTHING",
                [(day,) for day in sorted({int(c.ts // DAY) for c in credits})],
            )

    async def sum_credit_days(self, batch: int = 10) -> int:
        """Sum again, from the credits, each day of credit_days marked as changed, `batch`
        days per transaction (a writer waits for one batch at most); the days summed."""
        if await self.db.fetchval("SELECT count(*) FROM credit_dirty") == 0:
            return 0  # the usual case: a read, no write transaction
        done = 0
        while True:
            async with self.db.transaction() as tx:
                days = [int(r[0]) for r in await tx.fetch(TAKE_DIRTY_DAYS, (batch,))]
                for day in days:
                    await tx.execute("DELETE FROM credit_days WHERE day = ?", (day,))
                    await tx.execute(SUM_CREDIT_DAY, (day, day * DAY, (day + 1) * DAY))
            done += len(days)
            if len(days) < batch:
                return done

    async def forget_credit_days(self, cutoff: float) -> None:
        """After the purge of credits older than `cutoff`: their days leave the rollup, and
        the day the cutoff falls in is summed again."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM credit_days WHERE day < ?", (int(cutoff // DAY),))
            await tx.execute(
                "INSERT INTO credit_dirty (day) VALUES (?) ON CONFLICT DO NOTHING",
                (int(cutoff // DAY),),
            )

    async def credit_totals(
        self,
        dims: Sequence[str],
        start: float,
        end: float,
        currency: str | None,
        rolled: bool = True,
    ) -> list[CreditTotal]:
        """Credits summed by `dims` and model: the whole days of the range from credit_days
        (when it keeps `dims` and `rolled`), the rest from the credits. Days marked as changed
        are summed again first."""
        first, last = math.ceil(start / DAY), math.floor(end / DAY)
        if rolled and first < last and set(dims) <= set(ROLLED_DIMENSIONS):
            await self.sum_credit_days()
            span: tuple[Any, ...] = (
                first, last, float(start), float(first * DAY), float(last * DAY), float(end)
            )  # fmt: skip
            query = credit_totals_query(dims, rolled=True)
        else:
            span, query = (float(start), float(end)), credit_totals_query(dims, rolled=False)
        rows = await self.db.fetch(query, (currency, *span, currency))
        return credit_totals_from_rows(rows, len(dims))

    async def credits_pending(self) -> bool:
        """Whether some conversion has no stored credits (two counts: conversions are never
        deleted, and only a conversion is marked credited)."""
        row = await self.db.fetchrow(
            "SELECT (SELECT count(*) FROM conversions), (SELECT count(*) FROM credited)"
        )
        return row is not None and int(row[0]) > int(row[1])

    async def uncredited_journeys(
        self, limit: int, after: tuple[float, int] | None = None, before: float | None = None
    ) -> list[Journey]:
        """The journeys (see conversion_journeys) of up to `limit` conversions without stored
        credits, after `after` (time, id) and before the time `before`, in time order: a
        batch's credits then go into one stretch of attribution_credits (clustered by time)
        instead of touching every page of it, which made writing them the costliest part of
        sharing out an import."""
        ts, cid = after if after is not None else (float("-inf"), 0)
        until = float("inf") if before is None else float(before)
        conversions = await self.db.fetch(
            f"{JOURNEY_CONVERSIONS} WHERE c.ts >= ? AND (c.ts > ? OR c.id > ?) AND c.ts < ?"
            f"{UNCREDITED} ORDER BY c.ts, c.id LIMIT ?",
            (float(ts), float(ts), cid, until, limit),
        )
        if not conversions:
            return []
        # Every uncredited conversion in the batch's time span; journeys_from_rows keeps only
        # the steps of the batch's own (a few at the last instant may belong to the next).
        span = (float(conversions[0][1]), float(conversions[-1][1]))
        by_visitor = await self.db.fetch(
            f"SELECT {JOURNEY_STEP} FROM conversions c JOIN goals g ON g.id = c.goal_id "
            f"JOIN touches t ON t.visitor_id = c.visitor_id AND {JOURNEY_WINDOW} "
            f"WHERE c.ts >= ? AND c.ts <= ? AND c.visitor_id IS NOT NULL{UNCREDITED} "
            "ORDER BY c.id, t.ts, t.id",
            span,
        )
        by_token = await self.db.fetch(
            f"SELECT {JOURNEY_STEP} FROM conversions c JOIN goals g ON g.id = c.goal_id "
            f"{self.dialect.join_in_order} touches t ON t.click_token = c.click_token "
            f"AND {JOURNEY_WINDOW} "
            f"WHERE c.ts >= ? AND c.ts <= ? AND c.click_token IS NOT NULL{UNCREDITED}",
            span,
        )
        return journeys_from_rows(conversions, merge_steps(by_visitor, by_token))

    async def traffic_totals(
        self, dims: Sequence[str], start: float, end: float
    ) -> list[TrafficTotal]:
        select, group, order = self._dimensions(dims, 0)
        rows = await self.db.fetch(
            traffic_query(select, dims, "?", "?")
            + (f" GROUP BY {group} ORDER BY {order.removesuffix(', ')}" if group else ""),
            day_span(start, end),
        )
        return traffic_from_rows(rows, len(dims))

    async def visit_totals(self, dims: Sequence[str], start: float, end: float) -> list[VisitTotal]:
        rows = await self.db.fetch(visit_totals_query(dims), (float(start), float(end)))
        return visit_totals_from_rows(rows, len(dims))

    async def conversion_totals(
        self, dims: Sequence[str], start: float, end: float
    ) -> list[ConversionTotal]:
        select, group, order = self._dimensions(dims, 1)
        collate = self.dialect.collate
        rows = await self.db.fetch(
            f"SELECT {select}c.currency, count(*), coalesce(sum(c.value), 0) "
            f"{conversions_source([select])} WHERE c.ts >= ? AND c.ts < ? GROUP BY "
            + (f"{group}, " if group else "")
            + f"c.currency ORDER BY {order}c.currency{collate} NULLS FIRST",
            (float(start), float(end)),
        )
        return conversion_totals_from_rows(rows, len(dims))

    async def conversion_journeys(
        self, start: float, end: float, uncredited: bool = False
    ) -> list[Journey]:
        """Every conversion in [start, end) (only those without stored credits when
        `uncredited`) with the touches of its visitor or click token inside its goal's window,
        oldest first."""
        span = (float(start), float(end))
        skip = UNCREDITED if uncredited else ""
        conversions = await self.db.fetch(
            f"{JOURNEY_CONVERSIONS} WHERE c.ts >= ? AND c.ts < ?{skip} ORDER BY c.id", span
        )
        if not conversions:
            return []  # nothing new to share out: the touches need not be read at all
        by_visitor = await self.db.fetch(
            f"SELECT {JOURNEY_STEP} FROM conversions c JOIN goals g ON g.id = c.goal_id "
            f"JOIN touches t ON t.visitor_id = c.visitor_id AND {JOURNEY_WINDOW} "
            f"WHERE c.ts >= ? AND c.ts < ? AND c.visitor_id IS NOT NULL{skip} "
            "ORDER BY c.id, t.ts, t.id",
            span,
        )
        # From the few conversions with a token to their touches, in that order.
        by_token = await self.db.fetch(
            f"SELECT {JOURNEY_STEP} FROM conversions c JOIN goals g ON g.id = c.goal_id "
            f"{self.dialect.join_in_order} touches t ON t.click_token = c.click_token "
            f"AND {JOURNEY_WINDOW} "
            f"WHERE c.ts >= ? AND c.ts < ? AND c.click_token IS NOT NULL{skip}",
            span,
        )
        return journeys_from_rows(conversions, merge_steps(by_visitor, by_token))
