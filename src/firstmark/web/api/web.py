"""REST API for web analytics: GET /api/v1/web/{report} for a site, JSON or CSV."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import csvcells, web
from firstmark.domain.schema import Param, Str
from firstmark.services import web as web_service
from firstmark.web.api.contract import Reply, op
from firstmark.web.http import json_response, only_known
from firstmark.web.runtime import runtime


async def web_report(request: Request) -> Response:
    name = request.path_params["report"]
    params = only_known(request.query_params, set(web.PARAMS))
    answer, rows = await web_service.report(runtime(request).store, name, params)
    if params.get("format") == "csv":
        return Response(
            csvcells.document(web.to_csv(rows, "time" if name == "overview" else name)),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="firstmark-web-{name}.csv"'},
        )
    return json_response(answer)


CSV_OR_JSON = Reply(200, "The report (CSV with format=csv)", media=("application/json", "text/csv"))

routes = [
    op("GET", "/api/v1/web/{report}", web_report, scope="reports:read",
       summary="A web analytics report of a site",
       query=[Param(name, Str(max_length=255)) for name in sorted(web.PARAMS)],
       replies=[CSV_OR_JSON]),
]  # fmt: skip
