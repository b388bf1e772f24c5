"""REST API for funnels: create, list, and the report of one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import funnels
from firstmark.errors import InvalidField
from firstmark.services import funnels as funnels_service
from firstmark.web.api.auth import require
from firstmark.web.http import json_response, only_known, read_json
from firstmark.web.runtime import runtime


async def create_funnel(request: Request) -> Response:
    await require(request, "admin")
    saved = await funnels_service.create(runtime(request).store, await read_json(request))
    return json_response(funnels.to_json(saved), 201)


async def list_funnels(request: Request) -> Response:
    await require(request, "reports:read")
    params = only_known(request.query_params, {"site"})
    site = None
    if "site" in params:
        try:
            site = int(params["site"])
        except ValueError:
            raise InvalidField("site", "site must be a site id") from None
    found = await runtime(request).store.list_funnels(site)
    return json_response({"items": [funnels.to_json(f) for f in found]})


async def funnel_report(request: Request) -> Response:
    await require(request, "reports:read")
    params = only_known(request.query_params, funnels_service.REPORT_PARAMS)
    answer = await funnels_service.report(
        runtime(request).store, request.path_params["funnel_id"], params
    )
    return json_response(answer)


routes = [
    Route("/api/v1/funnels", create_funnel, methods=["POST"]),
    Route("/api/v1/funnels", list_funnels, methods=["GET"]),
    Route("/api/v1/funnels/{funnel_id:int}/report", funnel_report, methods=["GET"]),
]
