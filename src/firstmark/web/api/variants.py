"""REST API for A/B links (docs/links.md): the per-variant report and promoting a winner.

A link's variants themselves are set with the link (`variants` on POST/PATCH /api/v1/links).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import links
from firstmark.domain.audit import key_actor
from firstmark.services import audit
from firstmark.services import links as links_service
from firstmark.services import qr as qr_service
from firstmark.web.api.auth import api_key
from firstmark.web.api.contract import Reply, op
from firstmark.web.http import json_response
from firstmark.web.runtime import runtime


async def variant_report(request: Request) -> Response:
    rt = runtime(request)
    link_id: int = request.path_params["link_id"]
    return json_response(await links_service.variant_report(rt.store, link_id))


async def promote_variant(request: Request) -> Response:
    key = api_key(request)
    rt = runtime(request)
    link_id: int = request.path_params["link_id"]
    index: int = request.path_params["variant"]
    before, after = await links_service.promote_variant(rt.store, link_id, index)
    children = await qr_service.follow_parent(rt.store, after)
    rt.cache.invalidate(before, after, *children)
    await audit.record(
        rt.store, key_actor(key.prefix), "promote", "link", link_id, {"variant": index}
    )
    return json_response(links.to_json(after, rt.settings.base_url))


ID = "/api/v1/links/{link_id:int}"

routes = [
    op("GET", f"{ID}/variants", variant_report, scope="reports:read",
       summary="An A/B link's variants: clicks, conversions, revenue and the test"),
    op("POST", f"{ID}/variants/{{variant:int}}/promote", promote_variant, scope="links:write",
       summary="Make a variant the link's destination and end the split",
       replies=[Reply(200, "The link, no longer split")]),
]  # fmt: skip
