"""The dashboard's customers page: new customers, CAC and LTV by acquisition channel and by
cohort, and its CSV. Built by firstmark.services.customers, like GET
/api/v1/reports/customers."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import customers
from firstmark.domain.roles import ANALYST, VIEWER
from firstmark.errors import InvalidField
from firstmark.services import customers as customers_service
from firstmark.web.dashboard import ranges
from firstmark.web.dashboard.reports import Params, _csv
from firstmark.web.dashboard.views import Ctx, page

GROUPS = {"channel": "Channel", "campaign": "Campaign"}
UNIDENTIFIED = {
    "exclude": "Leave out",
    "separate": "Count each as a customer",
}
assert tuple(GROUPS) == customers.GROUPS and tuple(UNIDENTIFIED) == customers.UNIDENTIFIED


def _choices(ctx: Ctx) -> tuple[str, str]:
    query = ctx.request.query_params
    group = query.get("group_by", "channel")
    unidentified = query.get("unidentified", "exclude")
    return (
        group if group in GROUPS else "channel",
        unidentified if unidentified in UNIDENTIFIED else "exclude",
    )


async def customers_page(ctx: Ctx) -> Response:
    params = Params(ctx)
    group, unidentified = _choices(ctx)
    report = await customers_service.report(
        ctx.store, params.window, params.currency, group, unidentified, ctx.runtime.workers
    )
    query = params.query(group_by=group, unidentified=unidentified)
    return ctx.render(
        "customers.html",
        found=report.found,
        group=group,
        groups=GROUPS,
        unidentified=unidentified,
        unidentified_choices=UNIDENTIFIED,
        horizons=customers.HORIZONS,
        currency=report.currency,
        currencies=sorted({*report.others, *([report.currency] if report.currency else [])}),
        dates=params.dates,
        errors=params.errors,
        csv_url=f"/dashboard/customers.csv?{query}",
        ranges=ranges.choices(ctx, params.dates),
        carry=ranges.carried(params.dates),
    )


async def customers_csv(ctx: Ctx) -> Response:
    params = Params(ctx)
    if params.errors:
        raise InvalidField(*next(iter(params.errors.items())))
    group, unidentified = _choices(ctx)
    report = await customers_service.report(
        ctx.store, params.window, params.currency, group, unidentified, ctx.runtime.workers
    )
    found = report.found
    return _csv(customers.to_csv(found.rows, found.total, found.cohorts), "customers")


routes = [
    Route("/dashboard/customers", page(customers_page, role=VIEWER), methods=["GET"]),
    Route("/dashboard/customers.csv", page(customers_csv, role=ANALYST), methods=["GET"]),
]
