"""REST API for the channel grouping: the channels, an operator's rules and exclusions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import channels
from firstmark.domain.schema import Obj, Str
from firstmark.services import channels as channels_service
from firstmark.web.api.contract import ITEMS, Reply, op
from firstmark.web.http import json_response, read_json
from firstmark.web.runtime import runtime


async def list_channels(request: Request) -> Response:
    rules = await runtime(request).store.list_channel_rules()
    return json_response(
        {
            "channels": list(channels.CHANNELS),
            "rules": [channels.rule_to_json(r) for r in rules],
        }
    )


async def create_rule(request: Request) -> Response:
    rt = runtime(request)
    saved = await channels_service.create_rule(rt.store, await read_json(request))
    rt.event_writer.rules.invalidate()
    return json_response(channels.rule_to_json(saved), 201)


async def list_rules(request: Request) -> Response:
    rules = await runtime(request).store.list_channel_rules()
    return json_response({"items": [channels.rule_to_json(r) for r in rules]})


async def delete_rule(request: Request) -> Response:
    rt = runtime(request)
    await channels_service.delete_rule(rt.store, request.path_params["rule_id"])
    rt.event_writer.rules.invalidate()
    return Response(status_code=204)


RULE = Obj(
    {
        "action": Str(enum=channels.RULE_ACTIONS),
        "field": Str(enum=channels.RULE_FIELDS),
        "match": Str(enum=channels.RULE_MATCHES),
        "value": Str(max_length=255),
        "channel": Str(max_length=64, nullable=True),
    },
    required=("value",),
)

routes = [
    op("GET", "/api/v1/channels", list_channels, scope="reports:read",
       summary="The channels and the rules"),
    op("POST", "/api/v1/channels/rules", create_rule, scope="admin",
       summary="Add a channel rule or exclusion", body=RULE, replies=[Reply(201, "The rule")]),
    op("GET", "/api/v1/channels/rules", list_rules, replies=[ITEMS], scope="reports:read",
       summary="List channel rules"),
    op("DELETE", "/api/v1/channels/rules/{rule_id:int}", delete_rule, scope="admin",
       summary="Delete a channel rule", replies=[Reply(204, "Deleted", media=())]),
]  # fmt: skip
