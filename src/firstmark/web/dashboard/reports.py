"""Dashboard report pages: KPI tables by channel, campaign, …; the attribution comparison;
their CSV downloads. Built by firstmark.services.reports, the code behind /api/v1/reports/…"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import (
    attribution,
    csvcells,
    datadriven,
    dimensions,
    figures,
    groupings,
    periods,
    reports,
)
from firstmark.domain.links import short_url
from firstmark.domain.money import currency as check_currency
from firstmark.domain.roles import ANALYST, VIEWER
from firstmark.errors import InvalidField, NotFound
from firstmark.services import paths as paths_service
from firstmark.services import reports as reports_service
from firstmark.services.reports import Window
from firstmark.web.dashboard import columns, ranges
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
    "data_driven": "Data-driven",
}
assert tuple(MODEL_LABELS) == datadriven.ALL_MODELS
METHOD_LABELS = {"markov": "Markov chain (removal effect)", "shapley": "Shapley values"}
assert tuple(METHOD_LABELS) == datadriven.METHODS


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

    @property
    def previous(self) -> Window:
        """The period of the same length just before, to compare with."""
        return Window(periods.previous(self.span))

    def query(self, *more: tuple[str, str], **extra: str) -> str:
        kept = {**self.dates, **({"currency": self.currency} if self.currency else {}), **extra}
        return urlencode([*kept.items(), *more])


def _csv(body: str, name: str) -> Response:
    return Response(
        csvcells.document(body),
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


def _figures(row: reports.ReportRow) -> dict[str, figures.Number | None]:
    """A total's figures that the cards compare with the previous period."""
    return {
        "spend": row.spend, "revenue": row.revenue, "conversions": row.conversions,
        "calls": row.calls, "qualified_calls": row.qualified_calls, **row.kpis,
    }  # fmt: skip


async def overview_kpis(ctx: Ctx, params: Params) -> dict[str, Any]:
    """The overview's money cards: the totals of GET /api/v1/reports/overview, and their
    change since the previous period (in the same currency)."""
    found = await reports_service.table(ctx.store, ("day",), params.window, params.currency)
    before = await reports_service.table(ctx.store, ("day",), params.previous, found.currency)
    total = found.total()
    return {
        "money": total,
        "changes": figures.changes(_figures(total), _figures(before.total())),
        "currency": found.currency,
        "currencies": sorted({*found.others, *([found.currency] if found.currency else [])}),
    }


async def report(ctx: Ctx) -> Response:
    name = _name(ctx)
    params = Params(ctx)
    chosen, cols_error = columns.choose(ctx.request.query_params.getlist("cols"))
    if cols_error:
        params.errors["cols"] = cols_error
    dims = dimensions.TABLES[name]
    found = await reports_service.table(ctx.store, dims, params.window, params.currency)
    before = await reports_service.table(ctx.store, dims, params.previous, found.currency)
    earlier = {r.key: r for r in before.rows}
    shown = columns.shown(chosen, found.calls)
    kept = [] if chosen == columns.DEFAULT else list(chosen)  # the URL names a choice only
    rows = [
        {
            "key": reports.key_json(dims, r.key),
            "cells": columns.cells(r, earlier.get(r.key), shown, found.currency),
        }
        for r in found.rows
    ]
    links = {}
    if "link" in dims:
        for r in found.rows:
            link_id = r.key[dims.index("link")]
            if link_id is not None and link_id not in links:
                link = await ctx.store.get_link(int(link_id))
                links[link_id] = (
                    (link.code, short_url(link, ctx.settings.base_url))
                    if link
                    else (f"#{link_id}", None)
                )
    return ctx.render(
        "report.html",
        name=name,
        tables=TABLES,
        dims=dims,
        labels=DIMENSION_LABELS,
        rows=rows,
        total=columns.cells(found.total(), before.total(), shown, found.currency),
        with_calls=found.calls,
        columns=shown,
        offered=[c for c in columns.COLUMNS if found.calls or not c.calls],
        chosen=chosen,
        cols_kept=kept,
        query=params.query(*[("cols", k) for k in kept]),
        default_query=params.query(),
        money_columns=columns.MONEY,
        ranges=ranges.choices(ctx, params.dates),
        carry=ranges.carried(params.dates),
        **ranges.compared(params.span),
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


async def _with_data_driven(
    ctx: Ctx, params: Params, dims: tuple[str, ...], half_life: float
) -> tuple[list[dict[str, Any]], str | None, list[str], datadriven.Model]:
    """The five models and the data-driven one beside them; Shapley values refused (too many
    groups) are reported next to their field and the Markov chain answers instead."""
    entries, currency, others = await reports_service.comparison(
        ctx.store, dims, params.window, params.currency, half_life
    )
    how = ctx.request.query_params.get("data_driven", datadriven.MARKOV)
    if how not in datadriven.METHODS:
        how = datadriven.MARKOV
    try:
        model = await paths_service.model(ctx.store, dims, params.window, currency, how)
    except InvalidField as exc:
        params.errors["data_driven"] = exc.message
        model = await paths_service.model(ctx.store, dims, params.window, currency)
    datadriven.columns(entries, dims, model)
    return entries, currency, others, model


async def attribution_page(ctx: Ctx) -> Response:
    params = Params(ctx)
    dims, group_by, half_life, raw = _attribution_query(ctx, params)
    entries, currency, others, model = await _with_data_driven(ctx, params, dims, half_life)
    totals = {
        name: {
            "conversions": sum(e[name]["conversions"] or 0 for e in entries),
            "revenue": sum((Decimal(e[name]["revenue"] or 0) for e in entries), Decimal("0.00")),
        }
        for name in datadriven.ALL_MODELS
    }
    csv_query = params.query(
        group_by=group_by, half_life_days=f"{half_life:g}", data_driven=model.method
    )
    return ctx.render(
        "attribution.html",
        entries=entries,
        dims=dims,
        labels=DIMENSION_LABELS,
        models=MODEL_LABELS,
        methods=METHOD_LABELS,
        model=model,
        groups=ATTRIBUTION_GROUPS,
        group_by=group_by,
        half_life=raw if "half_life_days" in params.errors else f"{half_life:g}",
        currency=currency,
        currencies=sorted({*others, *([currency] if currency else [])}),
        totals=totals,
        dates=params.dates,
        errors=params.errors,
        csv_url=f"/dashboard/attribution.csv?{csv_query}",
        ranges=ranges.choices(ctx, params.dates),
        carry=ranges.carried(params.dates),
    )


async def attribution_csv(ctx: Ctx) -> Response:
    params = Params(ctx)
    dims, _, half_life, _ = _attribution_query(ctx, params)
    if params.errors:
        raise InvalidField(*next(iter(params.errors.items())))
    entries, _, _, _ = await _with_data_driven(ctx, params, dims, half_life)
    if params.errors:
        raise InvalidField(*next(iter(params.errors.items())))
    return _csv(reports.attribution_csv(entries, dims, datadriven.ALL_MODELS), "attribution")


routes = [
    Route("/dashboard/reports", page(report, role=VIEWER), methods=["GET"]),
    Route("/dashboard/reports/{name}.csv", page(report_csv, role=ANALYST), methods=["GET"]),
    Route("/dashboard/reports/{name}", page(report, role=VIEWER), methods=["GET"]),
    Route("/dashboard/attribution", page(attribution_page, role=VIEWER), methods=["GET"]),
    Route("/dashboard/attribution.csv", page(attribution_csv, role=ANALYST), methods=["GET"]),
]
