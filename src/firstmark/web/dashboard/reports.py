"""Dashboard report pages: KPI tables by channel, campaign, …; the attribution comparison;
their CSV downloads. Built by firstmark.services.reports, the code behind /api/v1/reports/…"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import attribution, dimensions, groupings, reports
from firstmark.domain.money import currency as check_currency
from firstmark.domain.roles import ANALYST, VIEWER
from firstmark.errors import InvalidField, NotFound
from firstmark.services import reports as reports_service
from firstmark.services.reports import Window
from firstmark.web.dashboard.views import HEADERS, Ctx, date_range, page

# The tables the dashboard offers, in order, with their tab label.
TABLES = {
    "channels": "Channels",
    "campaigns": "Campaigns",
    "sources": "Sources",
    "mediums": "Mediums",
    "contents": "Contents",
    "links": "Links",
}
DIMENSION_LABELS = {
    "source": "Source",
    "medium": "Medium",
    "campaign": "Campaign",
    "content": "Content",
    "link": "Link",
    "day": "Day",
    "channel": "Channel",
}
# Group-by choices of the attribution page: (value of group_by, label).
ATTRIBUTION_GROUPS = {
    "source,medium": "Source / medium",
    "source": "Source",
    "campaign": "Campaign",
    "content": "Content",
    "link": "Link",
    "channel": "Channel",
}
MODEL_LABELS = {
    "first_touch": "First touch",
    "last_non_direct": "Last non-direct",
    "linear": "Linear",
    "time_decay": "Time decay",
    "position_based": "Position based",
}
assert tuple(MODEL_LABELS) == attribution.MODELS


class Params:
    """A report page's query: date range, currency; bad values are reported next to their
    field and the default is used instead."""

    def __init__(self, ctx: Ctx) -> None:
        self.span, self.dates, self.errors = date_range(ctx)
        self.window = Window(self.span)
        raw = ctx.request.query_params.get("currency", "")
        self.currency: str | None = None
        try:
            self.currency = check_currency(raw) if raw.strip() else None
        except InvalidField as exc:
            self.errors["currency"] = exc.message

    def query(self, **extra: str) -> str:
        kept = {**self.dates, **({"currency": self.currency} if self.currency else {}), **extra}
        return urlencode(kept)


def _csv(body: str, name: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            **HEADERS,
            "content-disposition": f'attachment; filename="firstmark-{name}.csv"',
        },
    )


def _name(ctx: Ctx) -> str:
    name: str = ctx.request.path_params.get("name", "channels")
    if name not in TABLES:
        raise NotFound(f"There is no report {name!r}; try {', '.join(TABLES)}.")
    return name


async def overview_kpis(ctx: Ctx, params: Params) -> dict[str, Any]:
    """The overview's money cards: the totals of GET /api/v1/reports/overview."""
    found = await reports_service.table(ctx.store, ("day",), params.window, params.currency)
    return {
        "money": found.total(),
        "currency": found.currency,
        "currencies": sorted({*found.others, *([found.currency] if found.currency else [])}),
    }


async def report(ctx: Ctx) -> Response:
    name = _name(ctx)
    params = Params(ctx)
    dims = dimensions.TABLES[name]
    found = await reports_service.table(ctx.store, dims, params.window, params.currency)
    rows = [{"key": reports.key_json(dims, r.key), "row": r} for r in found.rows]
    links = {}
    if "link" in dims:
        for r in found.rows:
            link_id = r.key[dims.index("link")]
            if link_id is not None and link_id not in links:
                link = await ctx.store.get_link(int(link_id))
                links[link_id] = link.code if link else f"#{link_id}"
    return ctx.render(
        "report.html",
        name=name,
        tables=TABLES,
        dims=dims,
        labels=DIMENSION_LABELS,
        rows=rows,
        total=found.total(),
        with_calls=found.calls,
        link_codes=links,
        currency=found.currency,
        currencies=sorted({*found.others, *([found.currency] if found.currency else [])}),
        others=found.others,
        dates=params.dates,
        errors=params.errors,
        csv_url=f"/dashboard/reports/{name}.csv?{params.query()}",
        costed=set(dims) <= dimensions.COSTED,
    )


async def report_csv(ctx: Ctx) -> Response:
    name = _name(ctx)
    params = Params(ctx)
    if params.errors:
        raise InvalidField(*next(iter(params.errors.items())))
    dims = dimensions.TABLES[name]
    found = await reports_service.table(ctx.store, dims, params.window, params.currency)
    return _csv(reports.to_csv(found.rows, dims), name)


def _attribution_query(ctx: Ctx, params: Params) -> tuple[tuple[str, ...], str, float, str]:
    query = ctx.request.query_params
    group_by = query.get("group_by", "source,medium")
    if group_by not in ATTRIBUTION_GROUPS:
        group_by = "source,medium"
    raw = query.get("half_life_days", "")
    try:
        half_life = reports_service.half_life(raw)
    except InvalidField as exc:
        params.errors["half_life_days"] = exc.message
        half_life = attribution.DEFAULT_HALF_LIFE_DAYS
    return groupings.parse_dimensions(group_by), group_by, half_life, raw


async def attribution_page(ctx: Ctx) -> Response:
    params = Params(ctx)
    dims, group_by, half_life, raw = _attribution_query(ctx, params)
    entries, currency, others = await reports_service.comparison(
        ctx.store, dims, params.window, params.currency, half_life
    )
    totals = {
        model: {
            "conversions": sum(e[model]["conversions"] for e in entries),
            "revenue": sum((Decimal(e[model]["revenue"]) for e in entries), Decimal("0.00")),
        }
        for model in attribution.MODELS
    }
    csv_query = params.query(group_by=group_by, half_life_days=f"{half_life:g}")
    return ctx.render(
        "attribution.html",
        entries=entries,
        dims=dims,
        labels=DIMENSION_LABELS,
        models=MODEL_LABELS,
        groups=ATTRIBUTION_GROUPS,
        group_by=group_by,
        half_life=raw if "half_life_days" in params.errors else f"{half_life:g}",
        currency=currency,
        currencies=sorted({*others, *([currency] if currency else [])}),
        totals=totals,
        dates=params.dates,
        errors=params.errors,
        csv_url=f"/dashboard/attribution.csv?{csv_query}",
    )


async def attribution_csv(ctx: Ctx) -> Response:
    params = Params(ctx)
    dims, _, half_life, _ = _attribution_query(ctx, params)
    if params.errors:
        raise InvalidField(*next(iter(params.errors.items())))
    entries, _, _ = await reports_service.comparison(
        ctx.store, dims, params.window, params.currency, half_life
    )
    return _csv(reports.attribution_csv(entries, dims), "attribution")


routes = [
    Route("/dashboard/reports", page(report, role=VIEWER), methods=["GET"]),
    Route("/dashboard/reports/{name}.csv", page(report_csv, role=ANALYST), methods=["GET"]),
    Route("/dashboard/reports/{name}", page(report, role=VIEWER), methods=["GET"]),
    Route("/dashboard/attribution", page(attribution_page, role=VIEWER), methods=["GET"]),
    Route("/dashboard/attribution.csv", page(attribution_csv, role=ANALYST), methods=["GET"]),
]
