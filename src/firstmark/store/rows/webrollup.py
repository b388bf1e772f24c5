"""The web reports' daily rollups (migration web_rollup), shared by the engines: how a day is
rebuilt from the visits, when a report may read them, and the reads.

A report reads the rollups when its range is whole UTC days and it asks for every visit or
for one visits column's value: the overview unfiltered or with one column filter, a breakdown
by a visits column unfiltered. Anything else (pages, goals, events, page or goal filters,
several filters, a breakdown with a filter, an hourly series, a range cut inside a day) reads
the visits as before (rows/web.py). The answers are the same either way: sums add up by day,
and distinct visitors over days come from `prev_day` (see the migration).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from firstmark.domain.web import FILTERS, REPORTS, Sums
from firstmark.store.rows.web import BOUNCE, DURATION

DAY = 86_400
# The visits columns a report groups by or filters on; '' is every visit.
DIMS = ("", *sorted({c for c in (*REPORTS.values(), *FILTERS.values())
                     if c is not None and c not in ("page", "goal", "event")}))  # fmt: skip


def key_of(
    report: str | None, filters: Mapping[str, str], start: float, end: float
) -> tuple[str, str | None] | None:
    """(dim, the filter's value or None) when the rollups answer `report` (None: the
    overview) over [start, end) with these filters; None when the visits must."""
    if start % DAY or end % DAY:
        return None
    if report is None:
        if not filters:
            return "", None
        if len(filters) == 1:
            [(name, value)] = filters.items()
            column = FILTERS[name]
            return (column, value) if column is not None else None
        return None
    column = REPORTS[report]
    if filters or column not in DIMS:
        return None
    return column, None


def rebuild_statements(
    same: Callable[[str, str], str],
) -> list[str]:
    """The INSERTs that rebuild a site's days from a day on; each takes (site id, first day).
    `same(a, b)`: the engine's null-safe equality."""
    out = []
    for dim in DIMS:
        value = f"v.{dim}" if dim else "CAST(NULL AS TEXT)"
        group = f"v.day, v.{dim}" if dim else "v.day"
        out.append(
            "INSERT INTO web_daily (site_id, day, dim, value, visits, pageviews, bounces, "
            "duration, conversions, revenue) "
            f"SELECT v.site_id, v.day, '{dim}', {value}, count(*), sum(v.pageviews), "
            f"sum({BOUNCE}), sum({DURATION}), sum(v.conversions), sum(v.revenue) "
            "FROM visits v WHERE v.site_id = ? AND v.day >= ? AND NOT v.is_bot "
            f"GROUP BY v.site_id, {group}"
        )
        for converted in (0, 1):
            only = " AND v.conversions > 0" if converted else ""
            earlier = " AND p.conversions > 0" if converted else ""
            if dim:
                earlier += f" AND {same(f'p.{dim}', f'v.{dim}')}"
            prev = (
                "CASE WHEN v.visitor_id IS NULL THEN NULL ELSE (SELECT max(p.day) FROM visits p "
                "WHERE p.visitor_id = v.visitor_id AND p.site_id = v.site_id AND p.day < v.day "
                f"AND NOT p.is_bot{earlier}) END"
            )
            out.append(
                "INSERT INTO web_daily_visitors (site_id, day, dim, value, prev_day, converted, "
                f"n) SELECT y.site_id, y.day, '{dim}', y.value, y.prev, {converted}, count(*) "
                "FROM (SELECT x.site_id, x.day, x.value, max(x.prev) AS prev FROM ("
                f"SELECT v.site_id AS site_id, v.day AS day, {value} AS value, "
                "coalesce(v.visitor_id, v.visitor_day_hash) AS who, "
                f"{prev} AS prev FROM visits v WHERE v.site_id = ? AND v.day >= ? "
                f"AND NOT v.is_bot{only}) x GROUP BY x.site_id, x.day, x.value, x.who) y "
                "GROUP BY y.site_id, y.day, y.value, y.prev"
            )
    return out


def _where(dim: str, value: str | None) -> tuple[str, list[Any]]:
    if value is None:
        return "site_id = ? AND dim = ? AND day >= ? AND day < ?", []
    return "site_id = ? AND dim = ? AND day >= ? AND day < ? AND value = ?", [value]


def sums_query(
    site_id: int, dim: str, value: str | None, start: float, end: float, by: str | None
) -> tuple[str, list[Any]]:
    """The additive sums, one row or by `by` ("day" or "value")."""
    where, extra = _where(dim, value)
    key = by or "NULL"
    sql = (
        f"SELECT {key}, coalesce(sum(visits), 0), coalesce(sum(pageviews), 0), "
        "coalesce(sum(bounces), 0), coalesce(sum(duration), 0), coalesce(sum(conversions), 0), "
        f"coalesce(sum(revenue), 0) FROM web_daily WHERE {where}"
    )
    params = [site_id, dim, int(start // DAY), int(end // DAY), *extra]
    return sql + (f" GROUP BY {by}" if by else ""), params


def visitors_query(
    site_id: int, dim: str, value: str | None, start: float, end: float, by: str | None
) -> tuple[str, list[Any]]:
    """Visitors and converting visitors, one row or by `by`. By day, each day counts its own
    visitors (an earlier day is always before it); over the range, a visitor counts on the
    first day of the range they came."""
    where, extra = _where(dim, value)
    key = by or "NULL"
    first = int(start // DAY)
    since = "day" if by == "day" else "?"
    sql = (
        f"SELECT {key}, coalesce(sum(CASE WHEN converted = 0 THEN n END), 0), "
        "coalesce(sum(CASE WHEN converted = 1 THEN n END), 0) FROM web_daily_visitors "
        f"WHERE {where} AND (prev_day IS NULL OR prev_day < {since})"
    )
    params: list[Any] = [site_id, dim, first, int(end // DAY), *extra]
    if by != "day":
        params.append(first)
    return sql + (f" GROUP BY {by}" if by else ""), params


def merge(
    sums: Sequence[Sequence[Any]], visitors: Sequence[Sequence[Any]], grouped: bool
) -> list[Sums]:
    """Sums rows as the visits queries give them: one per key with a visit (always one row
    when not grouped)."""
    people = {r[0]: (int(r[1]), int(r[2])) for r in visitors}
    out = []
    for r in sums:
        if grouped and not r[1]:
            continue
        who, converters = people.get(r[0], (0, 0))
        out.append(
            Sums(r[0], who, int(r[1]), int(r[2]), int(r[3]), float(r[4]), int(r[5]),
                 converters, float(r[6]))
        )  # fmt: skip
    return out
