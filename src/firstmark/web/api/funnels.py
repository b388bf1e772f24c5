"""REST API for funnels: create, list, and the report of one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import funnels
from firstmark.domain.schema import Arr, Int, Obj, Param, Str
from firstmark.errors import InvalidField
from firstmark.services import funnels as funnels_service
from firstmark.web.api.contract import ITEMS, Reply, op
from firstmark.web.http import json_response, only_known, read_json
from firstmark.web.runtime import runtime


async def create_funnel(request: Request) -> Response:
    saved = await funnels_service.create(runtime(request).store, await read_json(request))
    return json_response(funnels.to_json(saved), 201)


async def list_funnels(request: Request) -> Response:
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
    params = only_known(request.query_params, funnels_service.REPORT_PARAMS)
    answer = await funnels_service.report(
        runtime(request).store, request.path_params["funnel_id"], params
    )
    return json_response(answer)


FUNNEL = Obj(
    {
        "site": Int(1),
        "name": Str(max_length=200),
        "steps": Arr(Obj({"page": Str(max_length=512), "event": Str(max_length=64)}),
                     max_items=20),
        "within": Str(enum=("visit", "days")),
        "days": Int(1, 366),
    },
    required=("site", "name", "steps"),
)  # fmt: skip

routes = [
    op("POST", "/api/v1/funnels", create_funnel, scope="goals:write", summary="Create a funnel",
       body=FUNNEL, replies=[Reply(201, "The funnel")]),
    op("GET", "/api/v1/funnels", list_funnels,
       replies=[ITEMS], scope="reports:read", summary="List funnels",
       query=[Param("site", Int(1))]),
    op("GET", "/api/v1/funnels/{funnel_id:int}/report", funnel_report, scope="reports:read",
       summary="A funnel's report",
       query=[Param(name, Str(max_length=255)) for name in sorted(funnels_service.REPORT_PARAMS)]),
]  # fmt: skip
