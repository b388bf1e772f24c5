"""Hits on PostgreSQL: the batch write (one transaction, set-based) and the report queries.

Every statement of a batch binds whole columns as arrays and expands them with unnest(), so a
batch of 1,000 clicks is five statements, not thousands. Rows that take locks (fact
combinations, visitors, rollups) are sent in key order: two nodes flushing at once then lock
shared rows in the same order and cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from firstmark.domain.dimensions import BREAKDOWNS, LINK_GROUPS
from firstmark.domain.hits import Hit
from firstmark.store.protocol import (
    DIM_COLUMNS,
    Dims,
    GroupRow,
    RollupRow,
    check_column,
    dims_key,
    dims_of,
    rollup_deltas,
    visitor_keys,
)

# Visitor keys (link, day, hash) remembered as already counted today: about 15 MB at most.
SEEN_VISITORS = 100_000
_DIM_TYPES = ("text",) * 8 + ("bool", "text", "text")  # key + DIM_COLUMNS


def _hour_floor(t: float) -> int:
    return int(t // 3600) * 3600


def _ceil(t: float) -> int:
    """For integer columns, `col < t` is `col < ceil(t)`."""
    return -int(-t // 1)


class HitTables:
    """Per-process memory that saves round trips: fact combination ids and the visitors
    already stored today. Both are filled only after a commit."""

    def __init__(self) -> None:
        self.dims: dict[Dims, int] = {}
        self.seen: set[tuple[int, int, str]] = set()
        self.seen_day = -1

    async def write(self, conn: asyncpg.Connection, hits: Sequence[Hit]) -> None:
        keys = sorted(k for k in visitor_keys(hits) if k not in self.seen)
        async with conn.transaction():
            new_dims = await self._dims_ids(conn, hits)
            known = {**self.dims, **new_dims} if new_dims else self.dims
            ids = [known[h[4:]] for h in hits]
            await conn.execute(
                "INSERT INTO hits (link_id, ts, kind, visitor_day_hash, dims_id) "
                "SELECT * FROM unnest($1::bigint[], $2::float8[], $3::text[], $4::text[], "
                "$5::bigint[])",
                [h[0] for h in hits],
                [h[1] for h in hits],
                [h[2] for h in hits],
                [h[3] for h in hits],
                ids,
            )
            first_seen: set[tuple[int, int, str]] = set()
            if keys:
                rows = await conn.fetch(
                    "INSERT INTO hit_visitors (link_id, day, visitor_day_hash) "
                    "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[]) "
                    "ON CONFLICT DO NOTHING RETURNING link_id, day, visitor_day_hash",
                    [k[0] for k in keys],
                    [k[1] for k in keys],
                    [k[2] for k in keys],
                )
                first_seen.update((r[0], r[1], r[2]) for r in rows)
            deltas = rollup_deltas(hits, ids, first_seen)
            hourly = sorted(deltas.hourly.items())
            await conn.execute(
                "INSERT INTO rollup_hourly AS r (link_id, hour, kind, hits, bot_hits, uniques) "
                "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], "
                "$5::bigint[], $6::bigint[]) ON CONFLICT (link_id, hour, kind) DO UPDATE SET "
                "hits = r.hits + excluded.hits, bot_hits = r.bot_hits + excluded.bot_hits, "
                "uniques = r.uniques + excluded.uniques",
                *_columns([(*k, *c) for k, c in hourly], 6),
            )
            daily = sorted(deltas.daily.items())
            await conn.execute(
                "INSERT INTO rollup_daily AS r (link_id, day, kind, dims_id, hits, bot_hits, "
                "uniques) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], "
                "$4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) "
                "ON CONFLICT (link_id, day, kind, dims_id) DO UPDATE SET "
                "hits = r.hits + excluded.hits, bot_hits = r.bot_hits + excluded.bot_hits, "
                "uniques = r.uniques + excluded.uniques",
                *_columns([(*k, *c) for k, c in daily], 7),
            )
            per_day = sorted(deltas.per_day().items())
            await conn.execute(
                "INSERT INTO rollup_day AS r (link_id, day, kind, hits, bot_hits, uniques) "
                "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], "
                "$5::bigint[], $6::bigint[]) ON CONFLICT (link_id, day, kind) DO UPDATE SET "
                "hits = r.hits + excluded.hits, bot_hits = r.bot_hits + excluded.bot_hits, "
                "uniques = r.uniques + excluded.uniques",
                *_columns([(*k, *c) for k, c in per_day], 6),
            )
            totals = sorted(deltas.all_links_per_day().items())
            await conn.execute(
                "INSERT INTO rollup_totals AS r (day, kind, hits, bot_hits, uniques) "
                "SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], "
                "$5::bigint[]) ON CONFLICT (day, kind) DO UPDATE SET "
                "hits = r.hits + excluded.hits, bot_hits = r.bot_hits + excluded.bot_hits, "
                "uniques = r.uniques + excluded.uniques",
                *_columns([(*k, *c) for k, c in totals], 5),
            )
        self.dims.update(new_dims)
        self._remember(keys)

    async def _dims_ids(self, conn: asyncpg.Connection, hits: Sequence[Hit]) -> dict[Dims, int]:
        missing = {d for d in map(dims_of, hits) if d not in self.dims}
        if not missing:
            return {}
        by_key = dict(sorted((dims_key(d), d) for d in missing))
        rows = [(k, *d) for k, d in by_key.items()]
        casts = ", ".join(f"${n}::{t}[]" for n, t in enumerate(_DIM_TYPES, 1))
        await conn.execute(
            f"INSERT INTO hit_dims (key, {', '.join(DIM_COLUMNS)}) "
            f"SELECT * FROM unnest({casts}) ON CONFLICT (key) DO NOTHING",
            *_columns(rows, len(_DIM_TYPES)),
        )
        found = await conn.fetch(
            "SELECT key, id FROM hit_dims WHERE key = ANY($1::text[])", list(by_key)
        )
        return {by_key[r[0]]: r[1] for r in found}

    def _remember(self, keys: list[tuple[int, int, str]]) -> None:
        """Keep today's stored visitor keys in memory, bounded; older days are dropped."""
        if not keys:
            return
        newest = max(k[1] for k in keys)
        if newest > self.seen_day or len(self.seen) + len(keys) > SEEN_VISITORS:
            self.seen_day = max(newest, self.seen_day)
            self.seen = {k for k in self.seen if k[1] == self.seen_day}
            if len(self.seen) + len(keys) > SEEN_VISITORS:
                self.seen.clear()
        self.seen.update(k for k in keys if k[1] == self.seen_day)


def _columns(rows: Sequence[Sequence[object]], width: int) -> list[list[object]]:
    """Rows → one list per column (for unnest), even when there are no rows."""
    return [[row[i] for row in rows] for i in range(width)]


async def rollups(
    conn: asyncpg.Connection, link_ids: Sequence[int] | None, start: float, end: float
) -> list[RollupRow]:
    where, params = "hour >= $1 AND hour < $2", [_hour_floor(start), _ceil(end)]
    if link_ids is not None:
        where += " AND link_id = ANY($3::bigint[])"
        params.append(list(link_ids))  # type: ignore[arg-type]
    rows = await conn.fetch(
        "SELECT hour, kind, sum(hits)::bigint, sum(bot_hits)::bigint, sum(uniques)::bigint "
        f"FROM rollup_hourly WHERE {where} GROUP BY hour, kind ORDER BY hour, kind",
        *params,
    )
    return [RollupRow(*r) for r in rows]


async def breakdown(
    conn: asyncpg.Connection, link_id: int, column: str, start: float, end: float, limit: int
) -> list[tuple[str | None, int, int]]:
    """Top values of one fact for a link's human hits, by whole UTC days."""
    check_column(column, BREAKDOWNS, "breakdown")
    rows = await conn.fetch(
        f"SELECT d.{column}, sum(r.hits - r.bot_hits)::bigint, sum(r.uniques)::bigint "
        "FROM rollup_daily r JOIN hit_dims d ON d.id = r.dims_id "
        "WHERE r.link_id = $1 AND r.day >= $2 AND r.day < $3 AND NOT d.is_bot "
        f'GROUP BY d.{column} ORDER BY 2 DESC, d.{column} COLLATE "C" NULLS FIRST LIMIT $4',
        link_id,
        int(start // 86400),
        -int(-end // 86400),
        limit,
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def group_totals(
    conn: asyncpg.Connection, group_by: str, start: float, end: float
) -> list[GroupRow]:
    check_column(group_by, LINK_GROUPS, "group_by")
    if group_by == "tag":
        source, value = "link_tags t JOIN links l ON l.id = t.link_id", "t.tag"
    else:
        source, value = "links l", f"l.{group_by}"
    rows = await conn.fetch(
        f"SELECT {value}, count(DISTINCT l.id), coalesce(sum(r.hits), 0)::bigint, "
        "coalesce(sum(r.bot_hits), 0)::bigint, coalesce(sum(r.uniques), 0)::bigint, "
        "coalesce(sum(CASE WHEN r.kind = 'click' THEN r.hits - r.bot_hits END), 0)::bigint, "
        "coalesce(sum(CASE WHEN r.kind = 'scan' THEN r.hits - r.bot_hits END), 0)::bigint "
        f"FROM {source} LEFT JOIN rollup_hourly r ON r.link_id = l.id "
        "AND r.hour >= $1 AND r.hour < $2 "
        f'GROUP BY {value} ORDER BY 3 DESC, {value} COLLATE "C" NULLS FIRST',
        _hour_floor(start),
        _ceil(end),
    )
    return [GroupRow(*r) for r in rows]
