"""REST API for web analytics: GET /api/v1/web/{report} for a site, JSON or CSV."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import web
from firstmark.services import web as web_service
from firstmark.web.api.auth import require
from firstmark.web.http import json_response, only_known
from firstmark.web.runtime import runtime


async def web_report(request: Request) -> Response:
    await require(request, "reports:read")
    name = request.path_params["report"]
    params = only_known(request.query_params, set(web.PARAMS))
    answer, rows = await web_service.report(runtime(request).store, name, params)
    if params.get("format") == "csv":
        return Response(
            web.to_csv(rows, "time" if name == "overview" else name),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="firstmark-web-{name}.csv"'},
        )
    return json_response(answer)


routes = [Route("/api/v1/web/{report}", web_report, methods=["GET"])]
