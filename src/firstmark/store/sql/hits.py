"""Hits, the same on both engines: the statements of a batch write (each engine supplies its
rows: a VALUES list, or unnest of arrays) and the report queries over the rollups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from firstmark.domain.abtest import VariantCounts
from firstmark.domain.dimensions import BREAKDOWNS, LINK_GROUPS
from firstmark.store.protocol import GroupRow, RollupRow
from firstmark.store.rows.hits import DIM_COLUMNS, Deltas
from firstmark.store.rows.values import ceil, check_column, day_span, hour_start
from firstmark.store.sql.executor import Dialect, SharedSQL

HIT_COLUMNS = (
    "link_id", "ts", "kind", "visitor_day_hash", "dims_id", "variant", "first_visit",
)  # fmt: skip
DIMS_COLUMNS = ("key", *DIM_COLUMNS)
VISITOR_COLUMNS = ("link_id", "day", "visitor_day_hash")
# Each rollup by its key; all of them add up hits, bot_hits and uniques.
ROLLUP_KEYS = {
    "rollup_hourly": ("link_id", "hour", "kind"),
    "rollup_daily": ("link_id", "day", "kind", "dims_id"),
    "rollup_day": ("link_id", "day", "kind"),
    "rollup_totals": ("day", "kind"),
    "rollup_variant": ("link_id", "day", "variant"),
}
COUNTS = ("hits", "bot_hits", "uniques")


def insert_hits(rows: str) -> str:
    return f"INSERT INTO hits ({', '.join(HIT_COLUMNS)}) {rows}"


def insert_dims(rows: str) -> str:
    """New fact combinations (DIMS_COLUMNS); one already there is left as it is."""
    return f"INSERT INTO hit_dims ({', '.join(DIMS_COLUMNS)}) {rows} ON CONFLICT (key) DO NOTHING"


def insert_visitors(rows: str) -> str:
    """Visitors (VISITOR_COLUMNS), giving back those not stored before: today's new uniques."""
    columns = ", ".join(VISITOR_COLUMNS)
    return f"INSERT INTO hit_visitors ({columns}) {rows} ON CONFLICT DO NOTHING RETURNING {columns}"


def rollup_columns(table: str) -> tuple[str, ...]:
    return (*ROLLUP_KEYS[table], *COUNTS)


def rollup_rows(deltas: Deltas) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """What a batch adds to each rollup: its rows of rollup_columns(table)."""
    return [
        (table, [(*key, *counts) for key, counts in found.items()])
        for table, found in (
            ("rollup_hourly", deltas.hourly),
            ("rollup_daily", deltas.daily),
            ("rollup_day", deltas.per_day()),
            ("rollup_totals", deltas.all_links_per_day()),
            ("rollup_variant", deltas.variants),
        )
    ]


def add_to_rollup(table: str, rows: str) -> str:
    """Rows of rollup_columns(table) added to the counts stored under their keys."""
    return (
        f"INSERT INTO {table} AS r ({', '.join(rollup_columns(table))}) {rows} "
        f"ON CONFLICT ({', '.join(ROLLUP_KEYS[table])}) DO UPDATE SET "
        + ", ".join(f"{c} = r.{c} + excluded.{c}" for c in COUNTS)
    )


def top_values(column: str, links: str, dialect: Dialect) -> str:
    """Human hits and uniques by one fact (checked against BREAKDOWNS) of the links that
    `links` picks, for days in [?, ?), most first, ties in byte order with NULL first; the
    top ? of them."""
    return (
        f"SELECT d.{column}, CAST(sum(r.hits - r.bot_hits) AS BIGINT), "
        "CAST(sum(r.uniques) AS BIGINT) "
        "FROM rollup_daily r JOIN hit_dims d ON d.id = r.dims_id "
        f"WHERE {links} AND r.day >= ? AND r.day < ? AND NOT d.is_bot "
        f"GROUP BY d.{column} ORDER BY 2 DESC, d.{column}{dialect.collate} NULLS FIRST LIMIT ?"
    )


class HitSQL(SharedSQL):
    async def count_hits(self, link_id: int | None = None) -> int:
        if link_id is None:
            return int(await self.db.fetchval("SELECT count(*) FROM hits"))
        return int(
            await self.db.fetchval("SELECT count(*) FROM hits WHERE link_id = ?", (link_id,))
        )

    async def human_hit_count(self, link_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT coalesce(sum(hits - bot_hits), 0) FROM rollup_hourly WHERE link_id = ?",
                (link_id,),
            )
        )

    async def add_imported_clicks(self, link_id: int, day: int, clicks: int) -> None:
        """A click total brought from another shortener, counted on one day (days since the
        epoch): added to the link's hourly and daily rollups and the overview's, but to no
        breakdown (its facts are unknown) and never as hits rows."""
        async with self.db.transaction() as tx:
            for table, key in (
                ("rollup_hourly", (link_id, day * 86400, "click")),
                ("rollup_day", (link_id, day, "click")),
                ("rollup_totals", (day, "click")),
            ):
                values = ", ".join(["?"] * len(rollup_columns(table)))
                await tx.execute(add_to_rollup(table, f"VALUES ({values})"), (*key, clicks, 0, 0))

    async def variant_counts(self, link_id: int) -> dict[int, VariantCounts]:
        """An A/B link's human clicks, daily visitors, conversions and their value by variant,
        over all time (rollup_variant outlives the purge of hits)."""
        found: dict[int, VariantCounts] = {}
        for variant, clicks, visitors in await self.db.fetch(
            "SELECT variant, CAST(sum(hits - bot_hits) AS BIGINT), CAST(sum(uniques) AS BIGINT) "
            "FROM rollup_variant WHERE link_id = ? GROUP BY variant",
            (link_id,),
        ):
            found[variant] = VariantCounts(clicks=int(clicks), visitors=int(visitors))
        for variant, conversions, revenue in await self.db.fetch(
            "SELECT variant, count(*), coalesce(sum(value), 0) FROM conversions "
            "WHERE link_id = ? AND variant IS NOT NULL GROUP BY variant",
            (link_id,),
        ):
            found[variant] = replace(
                found.get(variant, VariantCounts()),
                conversions=int(conversions),
                revenue=float(revenue),
            )
        return found

    async def rollups(
        self, link_ids: Sequence[int] | None, start: float, end: float
    ) -> list[RollupRow]:
        where, params = "hour >= ? AND hour < ?", [hour_start(start), ceil(end)]
        if link_ids is not None:
            among, ids = self.dialect.among("link_id", link_ids)
            where += f" AND {among}"
            params += ids
        rows = await self.db.fetch(
            "SELECT hour, kind, CAST(sum(hits) AS BIGINT), CAST(sum(bot_hits) AS BIGINT), "
            f"CAST(sum(uniques) AS BIGINT) FROM rollup_hourly WHERE {where} "
            "GROUP BY hour, kind ORDER BY hour, kind",
            params,
        )
        return [RollupRow(*r) for r in rows]

    async def breakdown(
        self, link_id: int, column: str, start: float, end: float, limit: int
    ) -> list[tuple[str | None, int, int]]:
        """Top values of one fact for a link's human hits, by whole UTC days."""
        check_column(column, BREAKDOWNS, "breakdown")
        rows = await self.db.fetch(
            top_values(column, "r.link_id = ?", self.dialect),
            (link_id, *day_span(start, end), limit),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def group_totals(self, group_by: str, start: float, end: float) -> list[GroupRow]:
        check_column(group_by, LINK_GROUPS, "group_by")
        if group_by == "tag":
            source, value = "link_tags t JOIN links l ON l.id = t.link_id", "t.tag"
        else:
            source, value = "links l", f"l.{group_by}"
        human = "r.hits - r.bot_hits"
        rows = await self.db.fetch(
            f"SELECT {value}, count(DISTINCT l.id), CAST(coalesce(sum(r.hits), 0) AS BIGINT), "
            "CAST(coalesce(sum(r.bot_hits), 0) AS BIGINT), "
            "CAST(coalesce(sum(r.uniques), 0) AS BIGINT), "
            f"CAST(coalesce(sum(CASE WHEN r.kind = 'click' THEN {human} END), 0) AS BIGINT), "
            f"CAST(coalesce(sum(CASE WHEN r.kind = 'scan' THEN {human} END), 0) AS BIGINT) "
            f"FROM {source} LEFT JOIN rollup_hourly r ON r.link_id = l.id "
            "AND r.hour >= ? AND r.hour < ? "
            f"GROUP BY {value} ORDER BY 3 DESC, {value}{self.dialect.collate} NULLS FIRST",
            (hour_start(start), ceil(end)),
        )
        return [GroupRow(*r) for r in rows]
