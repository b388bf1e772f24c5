"""PostgreSQL: the spellings of the touch paths (the queries are sql/paths.py)."""

from __future__ import annotations

from firstmark.store.sql.paths import PathSQL


class PostgresPaths(PathSQL):
    concat = "string_agg({expr}, {sep} ORDER BY {order})"
    credits_in_order = "attribution_credits a"
    touches_in_order = "touches t"
    char = "chr({})"
    # floor: a cast to integer would round a time late in the day into the next one.
    day_of = "floor({ts} / 86400)::bigint"
