"""REST API for the channel grouping: the channels, an operator's rules and exclusions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import channels
from firstmark.services import channels as channels_service
from firstmark.web.api.auth import require
from firstmark.web.http import json_response, read_json
from firstmark.web.runtime import runtime


async def list_channels(request: Request) -> Response:
    await require(request, "reports:read")
    rules = await runtime(request).store.list_channel_rules()
    return json_response(
        {
            "channels": list(channels.CHANNELS),
            "rules": [channels.rule_to_json(r) for r in rules],
        }
    )


async def create_rule(request: Request) -> Response:
    await require(request, "admin")
    rt = runtime(request)
    saved = await channels_service.create_rule(rt.store, await read_json(request))
    rt.event_writer.rules.invalidate()
    return json_response(channels.rule_to_json(saved), 201)


async def list_rules(request: Request) -> Response:
    await require(request, "reports:read")
    rules = await runtime(request).store.list_channel_rules()
    return json_response({"items": [channels.rule_to_json(r) for r in rules]})


async def delete_rule(request: Request) -> Response:
    await require(request, "admin")
    rt = runtime(request)
    await channels_service.delete_rule(rt.store, request.path_params["rule_id"])
    rt.event_writer.rules.invalidate()
    return Response(status_code=204)


routes = [
    Route("/api/v1/channels", list_channels, methods=["GET"]),
    Route("/api/v1/channels/rules", create_rule, methods=["POST"]),
    Route("/api/v1/channels/rules", list_rules, methods=["GET"]),
    Route("/api/v1/channels/rules/{rule_id:int}", delete_rule, methods=["DELETE"]),
]
