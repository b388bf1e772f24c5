"""SQLite: the spellings of the touch paths (the queries are sql/paths.py)."""

from __future__ import annotations

from firstmark.store.sql.paths import PathSQL


class SQLitePaths(PathSQL):
    # SQLite's group_concat takes no ORDER BY before 3.44; it joins the rows in the order the
    # sorted subquery hands them over, which the GROUP BY of the same key keeps.
    concat = "group_concat({expr}, {sep})"
    char = "char({})"
    day_of = "CAST({ts} / 86400 AS INTEGER)"
