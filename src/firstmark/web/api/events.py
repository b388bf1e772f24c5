"""REST API for sites, goals and conversions."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import conversions, goals, sites
from firstmark.domain.conversions import Conversion
from firstmark.domain.links import short_url
from firstmark.domain.times import now
from firstmark.errors import InvalidField, NotFound
from firstmark.services import conversions as conversions_service
from firstmark.web.api.auth import require
from firstmark.web.http import json_response, only_known, query_int, read_json
from firstmark.web.runtime import runtime

BATCH_BODY_LIMIT = 4 * 1024 * 1024


async def create_site(request: Request) -> Response:
    await require(request, "admin")
    site = sites.new_site(await read_json(request), now())
    saved = await runtime(request).store.insert_site(site)
    runtime(request).sites.invalidate(saved.key)
    return json_response(sites.to_json(saved, runtime(request).settings.base_url), 201)


async def update_site(request: Request) -> Response:
    """Replace the hosts of a site: `{"hosts": [...]}`."""
    await require(request, "admin")
    data = await read_json(request)
    if not isinstance(data, dict) or set(data) != {"hosts"}:
        raise InvalidField("hosts", 'send {"hosts": [...]}', code="invalid_type")
    site_id: int = request.path_params["site_id"]
    saved = await runtime(request).store.set_site_hosts(site_id, sites.parse_hosts(data["hosts"]))
    runtime(request).sites.invalidate(saved.key)
    return json_response(sites.to_json(saved, runtime(request).settings.base_url))


async def list_sites(request: Request) -> Response:
    await require(request, "admin")
    base = runtime(request).settings.base_url
    return json_response(
        {"items": [sites.to_json(s, base) for s in await runtime(request).store.list_sites()]}
    )


async def create_goal(request: Request) -> Response:
    await require(request, "admin")
    goal = goals.new_goal(await read_json(request), now())
    saved = await runtime(request).store.insert_goal(goal)
    runtime(request).goals.invalidate()
    return json_response(goals.to_json(saved), 201)


async def list_goals(request: Request) -> Response:
    await require(request, "reports:read")
    return json_response(
        {"items": [goals.to_json(g) for g in await runtime(request).store.list_goals()]}
    )


async def create_conversions(request: Request) -> Response:
    """One conversion (201, or 200 with duplicate: true), or {"conversions": [...]} (200)."""
    await require(request, "events:write")
    data = await read_json(request, limit=BATCH_BODY_LIMIT)
    rt = runtime(request)
    if isinstance(data, dict) and "conversions" in data:
        checked = conversions.parse_batch(data)
        results = await conversions_service.record(
            rt.store, rt.signer, checked, batch=True, client_data=rt.client_sealer
        )
        return json_response(
            {
                "results": [
                    {"id": c.id, "event_id": c.event_id, "duplicate": dup} for c, dup in results
                ],
                "stored": sum(not dup for _, dup in results),
                "duplicates": sum(dup for _, dup in results),
            }
        )
    one = conversions.parse(data)
    [(saved, duplicate)] = await conversions_service.record(
        rt.store, rt.signer, [one], client_data=rt.client_sealer
    )
    body = await _conversion_json(request, saved)
    body["duplicate"] = duplicate
    return json_response(body, 200 if duplicate else 201)


async def _conversion_json(request: Request, conv: Conversion) -> dict[str, Any]:
    link: dict[str, Any] = {}
    if conv.link_id is not None:
        found = await runtime(request).store.get_link(conv.link_id)
        if found is not None:
            link = {
                "link_code": found.code,
                "short_url": short_url(found, runtime(request).settings.base_url),
                "placement": found.placement,
                "campaign": found.campaign,
                "link_utm_campaign": found.utm_campaign,
            }
    return conversions.to_json(conv, link)


async def list_conversions(request: Request) -> Response:
    await require(request, "reports:read")
    params = only_known(request.query_params, {"goal", "page", "per_page"})
    page = query_int(request, "page", 1, 1, 1_000_000)
    per_page = query_int(request, "per_page", 50, 1, 500)
    goal_id = None
    if params.get("goal"):
        by_name = {g.name: g.id for g in await runtime(request).store.list_goals()}
        if params["goal"] not in by_name:
            raise InvalidField("goal", f"no goal named {params['goal']!r}", code="unknown_goal")
        goal_id = by_name[params["goal"]]
    found, total = await runtime(request).store.list_conversions(
        goal_id, per_page, (page - 1) * per_page
    )
    return json_response(
        {
            "items": [await _conversion_json(request, c) for c in found],
            "page": page,
            "per_page": per_page,
            "total": total,
        }
    )


async def get_conversion(request: Request) -> Response:
    await require(request, "reports:read")
    conv_id: int = request.path_params["conversion_id"]
    conv = await runtime(request).store.get_conversion(conv_id)
    if conv is None:
        raise NotFound(f"no conversion with id {conv_id}")
    return json_response(await _conversion_json(request, conv))


routes = [
    Route("/api/v1/sites", create_site, methods=["POST"]),
    Route("/api/v1/sites", list_sites, methods=["GET"]),
    Route("/api/v1/sites/{site_id:int}", update_site, methods=["PATCH"]),
    Route("/api/v1/goals", create_goal, methods=["POST"]),
    Route("/api/v1/goals", list_goals, methods=["GET"]),
    Route("/api/v1/conversions", create_conversions, methods=["POST"]),
    Route("/api/v1/conversions", list_conversions, methods=["GET"]),
    Route("/api/v1/conversions/{conversion_id:int}", get_conversion, methods=["GET"]),
]
