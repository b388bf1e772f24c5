"""The web reports' daily rollups (migration web_rollup), shared by the engines: how a day is
rebuilt from the visits, when a report may read them, and the reads.

A report reads the rollups when its range is whole UTC days and it asks for every visit or
for one visits column's value: the overview unfiltered or with one column filter, a breakdown
by a visits column or by page, unfiltered. Anything else (goals, events, page or goal filters,
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
_GROUPS = [c for c in REPORTS.values() if c not in ("goal", "event")]
_FILTER_COLUMNS = [c for c in FILTERS.values() if c is not None]
# A breakdown with one filter: "group|filter column", its rows by both values.
PAIRS = tuple(f"{g}|{f}" for g in _GROUPS for f in _FILTER_COLUMNS if g != f)
# What the writer marks changed for each day it writes visits of (web_dirty); each is
# rebuilt when a report first reads it.
ALL_DIMS = (*DIMS, "page", *PAIRS)

TABLES = ("web_daily", "web_daily_visitors")
# (dim, the rollup column a filter's value is read from, that value) or no filter.
Key = tuple[str, tuple[str, str] | None]


def key_of(report: str | None, filters: Mapping[str, str], start: float, end: float) -> Key | None:
    """Where the rollups answer `report` (None: the overview) over [start, end) with these
    filters; None when the visits must."""
    if start % DAY or end % DAY or len(filters) > 1:
        return None
    column = FILTERS[next(iter(filters))] if filters else None
    if filters and column is None:  # page and goal filters
        return None
    match = None if column is None else filters[next(iter(filters))]
    if report is None:
        return ("", None) if match is None else (column or "", ("value", match))
    group = REPORTS[report]
    if group not in _GROUPS:
        return None
    if match is None:
        return group, None
    if group == column:  # channels with channel=X: the one row of that value
        return group, ("value", match)
    return f"{group}|{column}", ("filter", match)


# A rebuild runs these a day at a time (a statement stays well within the store's command
# timeout however many days are rebuilt).
WINDOW_DAYS = 1
# The visits started in the window [lo, hi) (epoch seconds; the index by site and start).
_IN_WINDOW = "v.site_id = ? AND v.started >= ? AND v.started < ? AND NOT v.is_bot"
# One row per (page, visit) of the window's visits: its pageviews there.
_PAGES = (
    "SELECT e.path AS k, e.visit_key, e.visit_started, count(*) AS n FROM events e "
    "WHERE e.site_id = ? AND e.ts >= ? AND e.ts < ? AND e.visit_started >= ? "
    "AND e.visit_started < ? AND e.visit_key IS NOT NULL AND e.kind = 'pageview' "
    "AND NOT e.is_bot GROUP BY e.path, e.visit_key, e.visit_started"
)
_PAGE_VISITS = (
    f"FROM ({_PAGES}) x {{join}} visits v ON v.site_id = ? AND v.key = x.visit_key "
    "AND v.started = x.visit_started WHERE NOT v.is_bot"
)
_VISITS_PARAMS: tuple[str, ...] = ("site", "lo", "hi")
_PAGES_PARAMS: tuple[str, ...] = ("site", "lo", "hi+", "lo", "hi", "site")


def rebuild_statements(
    dim: str, same: Callable[[str, str], str], join: str
) -> list[tuple[str, tuple[str, ...]]]:
    """The INSERTs that rebuild a site's rollups of `dim` for the visits started in [lo, hi),
    with the names of their parameters ("site", "lo", "hi", "hi+": hi and a visit's longest
    span). `same(a, b)`: the engine's null-safe equality; `join`: its join in the written
    order."""
    out: list[tuple[str, tuple[str, ...]]] = []
    group, _, by = dim.partition("|")
    kept = f"v.{by}" if by else "CAST(NULL AS TEXT)"  # the filter column's value
    if group == "page":
        value, source, params = "x.k", _PAGE_VISITS.format(join=join), _PAGES_PARAMS
        pageviews = "x.n"
        # An earlier visit of the visitor that viewed the page.
        earlier_value = (
            " AND EXISTS (SELECT 1 FROM events pe WHERE pe.site_id = p.site_id "
            "AND pe.visit_key = p.key AND pe.visit_started = p.started "
            "AND pe.kind = 'pageview' AND NOT pe.is_bot AND pe.path = x.k)"
        )
    else:
        value = f"v.{group}" if group else "CAST(NULL AS TEXT)"
        source, params = f"FROM visits v WHERE {_IN_WINDOW}", _VISITS_PARAMS
        pageviews = "v.pageviews"
        earlier_value = f" AND {same(f'p.{group}', f'v.{group}')}" if group else ""
    if by:
        earlier_value += f" AND {same(f'p.{by}', f'v.{by}')}"
    keys = "v.site_id, v.day" + (f", {value}" if group else "") + (f", {kept}" if by else "")
    out.append(
        (
            "INSERT INTO web_daily (site_id, day, dim, value, filter, visits, pageviews, "
            "bounces, duration, conversions, revenue) "
            f"SELECT v.site_id, v.day, '{dim}', {value}, {kept}, count(*), sum({pageviews}), "
            f"sum({BOUNCE}), sum({DURATION}), sum(v.conversions), sum(v.revenue) "
            f"{source} GROUP BY {keys}",
            params,
        )
    )
    return out + visitor_statements(
        "web_daily_visitors", dim, value, kept, source, earlier_value, params
    )


def visitor_statements(
    table: str,
    dim: str,
    value: str,
    kept: str,
    source: str,
    earlier_value: str,
    params: tuple[str, ...],
) -> list[tuple[str, tuple[str, ...]]]:
    """The INSERTs of a day's visitors and converting visitors into `table`, by `value` (and
    the filter column's value `kept`) of the visits `source` gives, each with the last
    earlier day the same consented visitor had a visit with that value (`earlier_value`: the
    condition on such an earlier visit p)."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for converted in (0, 1):
        only = " AND v.conversions > 0" if converted else ""
        earlier = (" AND p.conversions > 0" if converted else "") + earlier_value
        prev = (
            "CASE WHEN v.visitor_id IS NULL THEN NULL ELSE (SELECT max(p.day) FROM visits p "
            "WHERE p.visitor_id = v.visitor_id AND p.site_id = v.site_id AND p.day < v.day "
            f"AND NOT p.is_bot{earlier}) END"
        )
        out.append(
            (
                f"INSERT INTO {table} (site_id, day, dim, value, filter, prev_day, "
                f"converted, n) SELECT y.site_id, y.day, '{dim}', y.value, y.kept, y.prev, "
                f"{converted}, count(*) FROM (SELECT x.site_id, x.day, x.value, x.kept, "
                "max(x.prev) AS prev FROM ("
                f"SELECT v.site_id AS site_id, v.day AS day, {value} AS value, {kept} AS kept, "
                "coalesce(v.visitor_id, v.visitor_day_hash) AS who, "
                f"{prev} AS prev {source}{only}) x "
                "GROUP BY x.site_id, x.day, x.value, x.kept, x.who) y "
                "GROUP BY y.site_id, y.day, y.value, y.kept, y.prev",
                params,
            )
        )
    return out


def _where(match: tuple[str, str] | None) -> tuple[str, list[Any]]:
    if match is None:
        return "site_id = ? AND dim = ? AND day >= ? AND day < ?", []
    column, value = match
    return f"site_id = ? AND dim = ? AND day >= ? AND day < ? AND {column} = ?", [value]


def sums_query(
    site_id: int, key: Key, start: float, end: float, by: str | None
) -> tuple[str, list[Any]]:
    """The additive sums, one row or by `by` ("day" or "value")."""
    dim, match = key
    where, extra = _where(match)
    shown = by or "NULL"
    sql = (
        f"SELECT {shown}, coalesce(sum(visits), 0), coalesce(sum(pageviews), 0), "
        "coalesce(sum(bounces), 0), coalesce(sum(duration), 0), coalesce(sum(conversions), 0), "
        f"coalesce(sum(revenue), 0) FROM web_daily WHERE {where}"
    )
    params = [site_id, dim, int(start // DAY), int(end // DAY), *extra]
    return sql + (f" GROUP BY {by}" if by else ""), params


def visitors_query(
    site_id: int, key: Key, start: float, end: float, by: str | None
) -> tuple[str, list[Any]]:
    """Visitors and converting visitors, one row or by `by`. By day, each day counts its own
    visitors (an earlier day is always before it); over the range, a visitor counts on the
    first day of the range they came."""
    dim, match = key
    where, extra = _where(match)
    shown = by or "NULL"
    first = int(start // DAY)
    since = "day" if by == "day" else "?"
    sql = (
        f"SELECT {shown}, coalesce(sum(CASE WHEN converted = 0 THEN n END), 0), "
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
