"""REST API for reports: overview, tables by channel/campaign/…, attribution; JSON or CSV."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import csvcells, datadriven, groupings, paths, reports
from firstmark.domain.money import currency as check_currency
from firstmark.domain.schema import Param, Str
from firstmark.errors import InvalidField, NotFound
from firstmark.services import paths as paths_service
from firstmark.services import reports as reports_service
from firstmark.services.reports import Window
from firstmark.web.api.contract import RANGE as SPAN
from firstmark.web.api.contract import Reply, op
from firstmark.web.http import json_response, only_known
from firstmark.web.runtime import runtime

RANGE = {"from", "to", "currency", "format"}


def _params(request: Request, allowed: set[str]) -> dict[str, str]:
    params = only_known(request.query_params, allowed)
    if params.get("format", "json") not in ("json", "csv"):
        raise InvalidField("format", "format must be json or csv")
    return params


def _csv(body: str, name: str) -> Response:
    return Response(
        csvcells.document(body),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="firstmark-{name}.csv"'},
    )


async def overview(request: Request) -> Response:
    params = _params(request, RANGE)
    window = Window.of(params)
    requested = check_currency(params.get("currency"))
    found = await reports_service.table(runtime(request).store, ("day",), window, requested)
    days, currency, others = found.rows, found.currency, found.others
    totals = found.total()
    if params.get("format") == "csv":
        return _csv(reports.to_csv(days, ("day",)), "overview")
    return json_response(
        {
            **window.json,
            "currency": currency,
            "other_currencies": others,
            "totals": reports.to_json(totals, ()),
            "series": [reports.to_json(r, ("day",)) for r in sorted(days, key=lambda r: r.key)],
        }
    )


async def table(request: Request) -> Response:
    name = request.path_params["name"]
    if name == "table":
        params = _params(request, RANGE | {"group_by"})
        dims = groupings.parse_dimensions(params.get("group_by", ""))
    elif name in groupings.REPORT_TABLES:
        params = _params(request, RANGE)
        dims = groupings.REPORT_TABLES[name]
    else:
        raise NotFound(f"no report {name!r}; try {', '.join(groupings.REPORT_TABLES)} or table")
    window = Window.of(params)
    found = await reports_service.table(
        runtime(request).store, dims, window, check_currency(params.get("currency"))
    )
    rows, currency, others = found.rows, found.currency, found.others
    if params.get("format") == "csv":
        return _csv(reports.to_csv(rows, dims), name)
    return json_response(
        {
            **window.json,
            "group_by": list(dims),
            "currency": currency,
            "other_currencies": others,
            "rows": [reports.to_json(r, dims) for r in rows],
            "totals": reports.to_json(found.total(), ()),
        }
    )


async def attribution_report(request: Request) -> Response:
    params = _params(request, RANGE | {"group_by", "half_life_days", "data_driven"})
    dims = groupings.parse_dimensions(params.get("group_by", "source,medium"))
    half_life = reports_service.half_life(params.get("half_life_days"))
    how = datadriven.method(params.get("data_driven"))
    window = Window.of(params)
    store = runtime(request).store
    entries, currency, _ = await reports_service.comparison(
        store, dims, window, check_currency(params.get("currency")), half_life
    )
    model = await paths_service.model(store, dims, window, currency, how)
    datadriven.columns(entries, dims, model)
    if params.get("format") == "csv":
        return _csv(reports.attribution_csv(entries, dims, datadriven.ALL_MODELS), "attribution")
    return json_response(
        {
            **window.json,
            "group_by": list(dims),
            "currency": currency,
            "models": list(datadriven.ALL_MODELS),
            "half_life_days": half_life,
            "data_driven": datadriven.summary(model),
            "data_driven_note": model.note,
            "rows": entries,
        }
    )


async def paths_report(request: Request) -> Response:
    params = _params(request, RANGE | {"group_by", "goal", "table"})
    dims = groupings.parse_dimensions(params.get("group_by", "channel"))
    table = params.get("table", "paths")
    if table not in paths.TABLES:
        raise InvalidField("table", f"table must be one of {', '.join(paths.TABLES)}")
    store = runtime(request).store
    goal_id = await paths_service.goal_named(store, params.get("goal"))
    window = Window.of(params)
    currency = await paths_service.currency(store, window, check_currency(params.get("currency")))
    found = await paths_service.paths(store, dims, window, currency, goal_id)
    body = paths.to_json(paths.report(found), dims)
    if params.get("format") == "csv":
        return _csv(paths.to_csv(body, table, dims), f"paths-{table}")
    return json_response(
        {
            **window.json,
            "group_by": list(dims),
            "goal": params.get("goal") or None,
            "currency": currency,
            **body,
        }
    )


FORMAT = Param("format", Str(enum=("json", "csv")))
CURRENCY = Param("currency", Str(max_length=3), description="report in this currency")
GROUP_BY = Param("group_by", Str(max_length=255), description="dimensions, comma-separated")
CSV_OR_JSON = Reply(200, "The report (CSV with format=csv)", media=("application/json", "text/csv"))

routes = [
    op("GET", "/api/v1/reports/overview", overview, scope="reports:read",
       summary="Totals and a daily series", query=(*SPAN, CURRENCY, FORMAT),
       replies=[CSV_OR_JSON]),
    op("GET", "/api/v1/reports/attribution", attribution_report, scope="reports:read",
       summary="Attribution models compared",
       query=(*SPAN, CURRENCY, FORMAT, GROUP_BY, Param("half_life_days", Str(max_length=16)),
              Param("data_driven", Str(enum=datadriven.METHODS),
                    description="markov (default) or shapley (12 groups at most)")),
       replies=[CSV_OR_JSON]),
    op("GET", "/api/v1/reports/paths", paths_report, scope="reports:read",
       summary="Converting paths, path lengths, days to conversion, assisted conversions",
       query=(*SPAN, CURRENCY, FORMAT, GROUP_BY,
              Param("goal", Str(max_length=64), description="one goal's conversions, by name"),
              Param("table", Str(enum=paths.TABLES), description="the table a CSV holds")),
       replies=[CSV_OR_JSON]),
    op("GET", "/api/v1/reports/{name}", table, scope="reports:read",
       summary="A report table (channel, campaign, … or table with group_by)",
       query=(*SPAN, CURRENCY, FORMAT, GROUP_BY), replies=[CSV_OR_JSON]),
]  # fmt: skip
