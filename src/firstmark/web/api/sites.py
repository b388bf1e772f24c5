"""REST API for sites: the hosts whose pages may send events to /e."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import sites
from firstmark.domain.schema import Arr, Obj, Str
from firstmark.errors import InvalidField
from firstmark.services import sites as sites_service
from firstmark.web.api.contract import ITEMS, Reply, op
from firstmark.web.http import json_response, read_json
from firstmark.web.runtime import runtime


async def create_site(request: Request) -> Response:
    rt = runtime(request)
    saved = await sites_service.create(rt.store, await read_json(request))
    rt.sites.invalidate(saved.key)
    return json_response(sites.to_json(saved, rt.settings.base_url), 201)


async def update_site(request: Request) -> Response:
    """Replace the hosts of a site: `{"hosts": [...]}`."""
    rt = runtime(request)
    data = await read_json(request)
    if not isinstance(data, dict) or set(data) != {"hosts"}:
        raise InvalidField("hosts", 'send {"hosts": [...]}', code="invalid_type")
    site_id: int = request.path_params["site_id"]
    saved = await sites_service.set_hosts(rt.store, site_id, data["hosts"])
    rt.sites.invalidate(saved.key)
    return json_response(sites.to_json(saved, rt.settings.base_url))


async def list_sites(request: Request) -> Response:
    rt = runtime(request)
    base = rt.settings.base_url
    return json_response({"items": [sites.to_json(s, base) for s in await rt.store.list_sites()]})


HOSTS = Arr(Str(max_length=255), max_items=100)

routes = [
    op("POST", "/api/v1/sites", create_site, scope="admin", summary="Create a site",
       body=Obj({"name": Str(max_length=200), "hosts": HOSTS}, required=("hosts",)),
       replies=[Reply(201, "The site, with its script snippet")]),
    op("GET", "/api/v1/sites", list_sites, replies=[ITEMS], scope="admin", summary="List sites"),
    op("PATCH", "/api/v1/sites/{site_id:int}", update_site, scope="admin",
       summary="Replace a site's hosts", body=Obj({"hosts": HOSTS}, required=("hosts",))),
]  # fmt: skip
