"""SQLite: the spellings of the touch paths (the queries are sql/paths.py)."""

from __future__ import annotations

from firstmark.store.sql.paths import PathSQL


class SQLitePaths(PathSQL):
    # group_concat takes no ORDER BY before SQLite 3.44: it joins rows in the order they are
    # read. So each table is read along an index in path order, and grouped by that index's
    # leading columns (no sorter in between): the credits' primary key (ts, conversion_id,
    # model, step), and touches_visitor (visitor_id, ts, then the rowid, which is the id).
    concat = "group_concat({expr}, {sep})"
    credits_in_order = "attribution_credits a"
    touches_in_order = "touches t INDEXED BY touches_visitor"
    char = "char({})"
    day_of = "CAST({ts} / 86400 AS INTEGER)"
