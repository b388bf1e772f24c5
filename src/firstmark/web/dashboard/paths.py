"""Dashboard paths page: top converting paths, path lengths, days to conversion and assisted
conversions, with CSV downloads. Built by firstmark.services.paths, the code behind
GET /api/v1/reports/paths."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import csvcells, groupings, paths
from firstmark.domain.roles import ANALYST, VIEWER
from firstmark.errors import InvalidField
from firstmark.services import paths as paths_service
from firstmark.web.dashboard import ranges
from firstmark.web.dashboard.reports import ATTRIBUTION_GROUPS, DIMENSION_LABELS, Params
from firstmark.web.dashboard.views import HEADERS, Ctx, page

# Paths read best by channel, so it comes first here.
GROUPS = {"channel": "Channel", **{k: v for k, v in ATTRIBUTION_GROUPS.items() if k != "channel"}}
TABLE_LABELS = {
    "paths": "Top converting paths",
    "lengths": "Path length (touches)",
    "days": "Days to conversion",
    "assisted": "Assisted and last-touch conversions",
}
assert tuple(TABLE_LABELS) == paths.TABLES


def _csv(body: str, name: str) -> Response:
    return Response(
        csvcells.document(body),
        media_type="text/csv; charset=utf-8",
        headers={**HEADERS, "content-disposition": f'attachment; filename="firstmark-{name}.csv"'},
    )


async def _report(ctx: Ctx, params: Params) -> tuple[dict[str, Any], tuple[str, ...], str, str]:
    """(report as the API answers it, dimensions, group_by, goal name); bad choices are
    reported next to their field."""
    query = ctx.request.query_params
    group_by = query.get("group_by", "channel")
    if group_by not in GROUPS:
        group_by = "channel"
    dims = groupings.parse_dimensions(group_by)
    goal = query.get("goal", "")
    goal_id = None
    try:
        goal_id = await paths_service.goal_named(ctx.store, goal)
    except InvalidField as exc:
        params.errors["goal"] = exc.message
        goal = ""
    currency = await paths_service.currency(ctx.store, params.window, params.currency)
    found = await paths_service.paths(ctx.store, dims, params.window, currency, goal_id)
    body = paths.to_json(paths.report(found), dims)
    body["currency"] = currency
    return body, dims, group_by, goal


async def paths_page(ctx: Ctx) -> Response:
    params = Params(ctx)
    body, dims, group_by, goal = await _report(ctx, params)
    goals = [g.name for g in await ctx.store.list_goals()]
    return ctx.render(
        "paths.html",
        report=body,
        dims=dims,
        labels=DIMENSION_LABELS,
        groups=GROUPS,
        group_by=group_by,
        goals=goals,
        goal=goal,
        tables=TABLE_LABELS,
        currency=body["currency"],
        dates=params.dates,
        errors=params.errors,
        csv_query=params.query(group_by=group_by, **({"goal": goal} if goal else {})),
        ranges=ranges.choices(ctx, params.dates),
        carry=ranges.carried(params.dates),
    )


async def paths_csv(ctx: Ctx) -> Response:
    params = Params(ctx)
    table = ctx.request.query_params.get("table", "paths")
    if table not in paths.TABLES:
        raise InvalidField("table", f"table must be one of {', '.join(paths.TABLES)}")
    body, dims, _, _ = await _report(ctx, params)
    if params.errors:
        raise InvalidField(*next(iter(params.errors.items())))
    return _csv(paths.to_csv(body, table, dims), f"paths-{table}")


routes = [
    Route("/dashboard/paths", page(paths_page, role=VIEWER), methods=["GET"]),
    Route("/dashboard/paths.csv", page(paths_csv, role=ANALYST), methods=["GET"]),
]
