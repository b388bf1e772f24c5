"""REST API for goals: the named conversions pages and backends report."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import goals
from firstmark.domain.schema import Anything, Int, Obj, Str
from firstmark.services import goals as goals_service
from firstmark.web.api.contract import ITEMS, Reply, op
from firstmark.web.http import json_response, read_json
from firstmark.web.runtime import runtime


async def create_goal(request: Request) -> Response:
    rt = runtime(request)
    saved = await goals_service.create(rt.store, await read_json(request))
    rt.goals.invalidate()
    return json_response(goals.to_json(saved), 201)


async def list_goals(request: Request) -> Response:
    found = await runtime(request).store.list_goals()
    return json_response({"items": [goals.to_json(g) for g in found]})


GOAL = Obj(
    {
        "name": Str(max_length=64),
        "kind": Str(enum=("macro", "micro")),
        "event_name": Str(max_length=128, nullable=True),
        "default_value": Anything("amount: a number or a decimal string"),
        "currency": Str(max_length=3, nullable=True),
        "window_days": Int(1, 365),
    },
    required=("name",),
)

routes = [
    op("POST", "/api/v1/goals", create_goal, scope="goals:write", summary="Create a goal",
       body=GOAL, replies=[Reply(201, "The goal")]),
    op("GET", "/api/v1/goals", list_goals,
       replies=[ITEMS], scope="reports:read", summary="List goals"),
]  # fmt: skip
