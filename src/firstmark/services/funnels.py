"""Funnels: create, list and report (GET /api/v1/funnels/{id}/report), aggregate only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from firstmark.domain import funnels, stats, web
from firstmark.domain.times import iso
from firstmark.errors import InvalidField, NotFound
from firstmark.store import Store

REPORT_PARAMS = frozenset({"from", "to", *web.FILTERS})


async def create(store: Store, data: object) -> funnels.Funnel:
    funnel = funnels.parse(data)
    if not any(s.id == funnel.site_id for s in await store.list_sites()):
        raise InvalidField("site", f"no site with id {funnel.site_id}")
    return await store.insert_funnel(funnel)


async def get(store: Store, funnel_id: int) -> funnels.Funnel:
    found = await store.get_funnel(funnel_id)
    if found is None:
        raise NotFound(f"no funnel with id {funnel_id}")
    return found


async def report(
    store: Store, funnel_id: int, params: Mapping[str, str], now: datetime | None = None
) -> dict[str, Any]:
    funnel = await get(store, funnel_id)
    assert funnel.id is not None
    # The web reports' filters, read the same way (site comes from the funnel).
    query = web.parse("funnel", {**params, "site": str(funnel.site_id)})
    span = stats.parse_range(params, now or datetime.now(UTC))
    start, end = span.start.timestamp(), span.end.timestamp()
    days = funnel.days if funnel.within == "days" else 0
    counts = await store.funnel_counts(funnel, query.filters, start, end)
    if counts is not None:  # from the funnel's daily rollup
        rows = funnels.report_from_counts(funnel, counts)
    else:
        hits = await store.funnel_hits(
            funnel.site_id, funnel.steps, query.filters, start, end, days
        )
        rows = funnels.report(funnel, hits)
    return {
        **funnels.to_json(funnel),
        "from": iso(span.start),
        "to": iso(span.end),
        "filters": dict(query.filters),
        "report": rows,
    }
