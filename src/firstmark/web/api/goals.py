"""REST API for goals: the named conversions pages and backends report."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import goals
from firstmark.services import goals as goals_service
from firstmark.web.api.auth import require
from firstmark.web.http import json_response, read_json
from firstmark.web.runtime import runtime


async def create_goal(request: Request) -> Response:
    await require(request, "admin")
    rt = runtime(request)
    saved = await goals_service.create(rt.store, await read_json(request))
    rt.goals.invalidate()
    return json_response(goals.to_json(saved), 201)


async def list_goals(request: Request) -> Response:
    await require(request, "reports:read")
    found = await runtime(request).store.list_goals()
    return json_response({"items": [goals.to_json(g) for g in found]})


routes = [
    Route("/api/v1/goals", create_goal, methods=["POST"]),
    Route("/api/v1/goals", list_goals, methods=["GET"]),
]
