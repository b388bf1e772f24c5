"""The SQL of web analytics reports both engines share (sql/web.py runs it): a site's human
visits in a range, narrowed by filters, added up by one key. Pages, goals and events are first
reduced to one row per (key, visit) from the events table, then joined to their visit, so every
report counts visitors, visits and bounces the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from firstmark.domain.visits import MAX_DURATION_S
from firstmark.domain.web import FILTERS, REPORTS, Sums

VISITOR = "coalesce(v.visitor_id, v.visitor_day_hash)"
BOUNCE = "CASE WHEN v.pageviews <= 1 AND v.events = 0 THEN 1 ELSE 0 END"
DURATION = (
    f"CASE WHEN v.last_ts - v.started > {MAX_DURATION_S} THEN {MAX_DURATION_S} "
    "ELSE v.last_ts - v.started END"
)
CONVERTER = f"CASE WHEN v.conversions > 0 THEN {VISITOR} END"
# An event's goal: the goal whose event name (else name) the event carries.
GOAL_OF = "e.name = CASE WHEN gl.event_name = '' THEN gl.name ELSE gl.event_name END"
SAME_VISIT = "{a}.site_id = v.site_id AND {a}.visit_key = v.key AND {a}.visit_started = v.started"


def visit_where(
    site_id: int, filters: Mapping[str, str], *, since: float, until: float | None
) -> tuple[str, list[Any]]:
    """WHERE of a site's human visits started in [since, until) (or with an event since
    `since` when `until` is None: realtime) that pass every filter."""
    params: list[Any]
    if until is None:
        parts, params = ["v.site_id = ?", "v.last_ts >= ?", "NOT v.is_bot"], [site_id, since]
    else:
        parts = ["v.site_id = ?", "v.started >= ?", "v.started < ?", "NOT v.is_bot"]
        params = [site_id, since, until]
    for name, value in filters.items():
        column = FILTERS[name]
        if column is not None:
            parts.append(f"v.{column} = ?")
        elif name == "page":
            parts.append(
                f"EXISTS (SELECT 1 FROM events p WHERE {SAME_VISIT.format(a='p')} "
                "AND p.kind = 'pageview' AND p.path = ?)"
            )
        else:  # goal
            parts.append(
                f"EXISTS (SELECT 1 FROM events e JOIN goals gl ON {GOAL_OF} "
                f"WHERE {SAME_VISIT.format(a='e')} AND e.kind <> 'pageview' AND gl.name = ?)"
            )
        params.append(value)
    return " AND ".join(parts), params


def _sums(key: str, pageviews: str, conversions: str, converters: str, revenue: str) -> str:
    return (
        f"SELECT {key}, count(DISTINCT {VISITOR}), count(*), coalesce(sum({pageviews}), 0), "
        f"coalesce(sum({BOUNCE}), 0), coalesce(sum({DURATION}), 0), "
        f"coalesce(sum({conversions}), 0), count(DISTINCT {converters}), "
        f"coalesce(sum({revenue}), 0)"
    )


def _per_visit(key: str, where: str, extra: str = "") -> str:
    """One row per (key, visit) of a site's events (`where` on e), with their count and
    value."""
    return (
        f"SELECT {key} AS k, e.visit_key, e.visit_started, count(*) AS n, "
        f"coalesce(sum(e.value), 0) AS val FROM events e{extra} WHERE e.site_id = ? "
        f"AND e.ts >= ? AND e.ts < ? AND e.visit_key IS NOT NULL AND {where} "
        "GROUP BY 1, 2, 3"
    )


def report_query(
    report: str,
    site_id: int,
    filters: Mapping[str, str],
    start: float,
    end: float,
    *,
    prop_expr: str = "",
    event_name: str | None = None,
    join: str = "JOIN",
) -> tuple[str, list[Any]]:
    """The rows of one breakdown report: (key, then the Sums fields, then events for the
    events report). `join`: the engine's join taken in the written order, so each (key, visit)
    row finds its visit by the visits' unique index rather than the other way round."""
    where, params = visit_where(site_id, filters, since=start, until=end)
    grouped = REPORTS[report]
    if grouped not in ("page", "goal", "event"):
        sql = _sums(f"v.{grouped}", "v.pageviews", "v.conversions", CONVERTER, "v.revenue")
        return f"{sql} FROM visits v WHERE {where} GROUP BY v.{grouped}", params
    # Events of visits started in the range may come up to a day later.
    span: list[Any] = [site_id, start, end + MAX_DURATION_S]
    inner_params: list[Any]
    if grouped == "page":
        inner = _per_visit("e.path", "e.kind = 'pageview' AND NOT e.is_bot")
        sql = _sums("x.k", "x.n", "v.conversions", CONVERTER, "v.revenue")
        inner_params = span
    elif grouped == "goal":
        inner = _per_visit(
            "gl.name", "e.kind <> 'pageview' AND NOT e.is_bot", f" JOIN goals gl ON {GOAL_OF}"
        )
        sql = _sums("x.k", "v.pageviews", "x.n", VISITOR, "x.val")
        inner_params = span
    else:
        if prop_expr:  # the engine's JSON lookup of a checked property name, no placeholder
            inner = _per_visit(prop_expr, "e.kind <> 'pageview' AND NOT e.is_bot AND e.name = ?")
            inner_params = [*span, event_name]
        elif event_name:
            inner = _per_visit("e.name", "e.kind <> 'pageview' AND NOT e.is_bot AND e.name = ?")
            inner_params = [*span, event_name]
        else:
            inner = _per_visit("e.name", "e.kind <> 'pageview' AND NOT e.is_bot")
            inner_params = span
        sql = _sums("x.k", "v.pageviews", "v.conversions", CONVERTER, "v.revenue") + ", sum(x.n)"
    return (
        f"{sql} FROM ({inner}) x {join} visits v ON v.site_id = ? AND v.key = x.visit_key "
        f"AND v.started = x.visit_started WHERE {where} GROUP BY x.k",
        [*inner_params, site_id, *params],
    )


def totals_query(
    site_id: int, filters: Mapping[str, str], start: float, end: float, bucket: str | None
) -> tuple[str, list[Any]]:
    """The overview: every visit added up (one row), or by `bucket` (an SQL expression of
    v.started) for the series."""
    where, params = visit_where(site_id, filters, since=start, until=end)
    key = bucket or "NULL"
    sql = _sums(key, "v.pageviews", "v.conversions", CONVERTER, "v.revenue")
    return f"{sql} FROM visits v WHERE {where}" + (f" GROUP BY {key}" if bucket else ""), params


def realtime_query(site_id: int, filters: Mapping[str, str], since: float) -> tuple[str, list[Any]]:
    where, params = visit_where(site_id, filters, since=since, until=None)
    return f"SELECT count(DISTINCT {VISITOR}) FROM visits v WHERE {where}", params


def sums_from_rows(rows: Sequence[Sequence[Any]]) -> list[Sums]:
    return [
        Sums(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), float(r[5]), int(r[6]),
             int(r[7]), float(r[8]), int(r[9]) if len(r) > 9 else None)
        for r in rows
    ]  # fmt: skip
