"""Web analytics reports: what GET /api/v1/web/{report} (and later the dashboard) build from
a site's visits. The store adds up; domain/web.py names, checks, sorts and shapes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from firstmark.domain import stats, web
from firstmark.domain.times import iso
from firstmark.errors import NotFound
from firstmark.store import Store

_EMPTY = web.Sums(None, 0, 0, 0, 0, 0.0, 0, 0, 0.0)


async def _site(store: Store, site_id: int) -> None:
    if not any(s.id == site_id for s in await store.list_sites()):
        raise NotFound(f"no site with id {site_id}")


def _range(params: Mapping[str, str], now: datetime) -> stats.Range:
    return stats.parse_range(params, now)


async def report(
    store: Store, name: str, params: Mapping[str, str], now: datetime | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the JSON answer, the rows a CSV holds) of one web report."""
    if name not in web.ALL_REPORTS:
        raise NotFound(f"no web report {name!r}; try {', '.join(web.ALL_REPORTS)}")
    query = web.parse(name, params)
    now = now or datetime.now(UTC)
    await _site(store, query.site_id)
    if name == "realtime":
        since = now.timestamp() - web.REALTIME_S
        visitors = await store.web_realtime(query.site_id, query.filters, since)
        answer = {
            "site": query.site_id,
            "filters": dict(query.filters),
            "since": iso(datetime.fromtimestamp(since, UTC)),
            "visitors": visitors,
        }
        return answer, []
    span = _range(params, now)
    start, end = span.start.timestamp(), span.end.timestamp()
    head: dict[str, Any] = {
        "site": query.site_id,
        "from": iso(span.start),
        "to": iso(span.end),
        "filters": dict(query.filters),
    }
    if name == "overview":
        return await _overview(store, query, span, head)
    sums = await store.web_report(
        name, query.site_id, query.filters, start, end, query.event_name, query.prop
    )
    if name == "goals":
        [everyone] = await store.web_totals(query.site_id, query.filters, start, end) or [_EMPTY]
        rows = [web.goal_row(s, everyone.visitors) for s in sums]
    else:
        rows = [web.row(s) for s in sums]
    shown = web.page(rows, query)
    head.update(
        {
            "report": name,
            "sort": query.sort,
            "order": "desc" if query.descending else "asc",
            "limit": query.limit,
            "offset": query.offset,
            "total_rows": len(rows),
            "rows": shown,
        }
    )
    if query.event_name is not None:
        head["name"] = query.event_name
    if query.prop is not None:
        head["prop"] = query.prop
    return head, shown


async def _overview(
    store: Store, query: web.Query, span: stats.Range, head: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    start, end = span.start.timestamp(), span.end.timestamp()
    [total] = await store.web_totals(query.site_id, query.filters, start, end) or [_EMPTY]
    found = await store.web_totals(query.site_id, query.filters, start, end, span.interval)
    by_bucket = {int(s.key): s for s in found if s.key is not None}
    step = span.step
    series = []
    first = int(start // step)
    for bucket in range(first, int(-(-end // step))):
        s = by_bucket.get(bucket, _EMPTY)
        point = web.row(web.Sums(iso(datetime.fromtimestamp(bucket * step, UTC)), *_fields(s)))
        series.append(point)
    head.update({"interval": span.interval, "totals": web.totals(total), "series": series})
    return head, series


def _fields(s: web.Sums) -> tuple[Any, ...]:
    return (s.visitors, s.visits, s.pageviews, s.bounces, s.duration_s, s.conversions,
            s.converters, s.revenue)  # fmt: skip
