"""REST API for destination health: a link's last check, a check now, the failing links."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import linkcheck as health
from firstmark.domain.links import Link
from firstmark.services import linkcheck
from firstmark.services import links as links_service
from firstmark.web.api.contract import op
from firstmark.web.http import json_response
from firstmark.web.runtime import runtime


async def _link(request: Request) -> Link:
    return await links_service.get_link(runtime(request).store, request.path_params["link_id"])


async def link_health(request: Request) -> Response:
    link = await _link(request)
    assert link.id is not None
    found = await runtime(request).store.health_for([link.id])
    return json_response({"link_id": link.id, "health": health.to_json(found.get(link.id))})


async def check_link_health(request: Request) -> Response:
    link = await _link(request)
    rt = runtime(request)
    allow = rt.settings.healthcheck_allow_private
    async with linkcheck.client(rt.settings.healthcheck_timeout, allow_private=allow) as http:
        found = await linkcheck.check_links(rt.store, http, [link])
    return json_response({"link_id": link.id, "health": health.to_json(found[0])})


async def failing_links(request: Request) -> Response:
    store = runtime(request).store
    active = await linkcheck.active_links(store)
    found = await store.health_for([link.id for link in active if link.id is not None])
    failing = [h for h in found.values() if not h.ok]
    return json_response(
        {
            "checked": len(found),
            "failing": [{"link_id": h.link_id, **(health.to_json(h) or {})} for h in failing],
        }
    )


routes = [
    op("GET", "/api/v1/links/{link_id:int}/health", link_health, scope="links:read",
       summary="A link's last destination check"),
    op("POST", "/api/v1/links/{link_id:int}/health", check_link_health, scope="links:write",
       summary="Check a link's destination now"),
    op("GET", "/api/v1/health/failing", failing_links, scope="links:read",
       summary="Links whose destination fails"),
]  # fmt: skip
