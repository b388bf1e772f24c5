"""REST API for sites: the hosts whose pages may send events to /e."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import sites
from firstmark.errors import InvalidField
from firstmark.services import sites as sites_service
from firstmark.web.api.auth import require
from firstmark.web.http import json_response, read_json
from firstmark.web.runtime import runtime


async def create_site(request: Request) -> Response:
    await require(request, "admin")
    rt = runtime(request)
    saved = await sites_service.create(rt.store, await read_json(request))
    rt.sites.invalidate(saved.key)
    return json_response(sites.to_json(saved, rt.settings.base_url), 201)


async def update_site(request: Request) -> Response:
    """Replace the hosts of a site: `{"hosts": [...]}`."""
    await require(request, "admin")
    rt = runtime(request)
    data = await read_json(request)
    if not isinstance(data, dict) or set(data) != {"hosts"}:
        raise InvalidField("hosts", 'send {"hosts": [...]}', code="invalid_type")
    site_id: int = request.path_params["site_id"]
    saved = await sites_service.set_hosts(rt.store, site_id, data["hosts"])
    rt.sites.invalidate(saved.key)
    return json_response(sites.to_json(saved, rt.settings.base_url))


async def list_sites(request: Request) -> Response:
    await require(request, "admin")
    rt = runtime(request)
    base = rt.settings.base_url
    return json_response({"items": [sites.to_json(s, base) for s in await rt.store.list_sites()]})


routes = [
    Route("/api/v1/sites", create_site, methods=["POST"]),
    Route("/api/v1/sites", list_sites, methods=["GET"]),
    Route("/api/v1/sites/{site_id:int}", update_site, methods=["PATCH"]),
]
