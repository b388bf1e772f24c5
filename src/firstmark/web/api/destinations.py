"""REST API for destinations (ad platform connections), their delivery log and replays."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import destinations
from firstmark.domain.audit import key_actor
from firstmark.domain.destinations import Destination
from firstmark.domain.schema import Anything, Bool, Obj, Param, Str
from firstmark.errors import InvalidField, NotFound
from firstmark.forward.probe import probe
from firstmark.services import audit
from firstmark.services import destinations as destinations_service
from firstmark.web.api import paging
from firstmark.web.api.auth import api_key
from firstmark.web.api.contract import ITEMS, Reply, op
from firstmark.web.http import json_response, only_known, read_json
from firstmark.web.runtime import runtime


async def _found(request: Request) -> Destination:
    dest_id: int = request.path_params["destination_id"]
    dest = await runtime(request).store.get_destination(dest_id)
    if dest is None:
        raise NotFound(f"no destination with id {dest_id}")
    return dest


async def _answer(request: Request, dest: Destination, status: int = 200) -> Response:
    assert dest.id is not None
    counts = await runtime(request).store.outbox_counts(dest.id)
    return json_response(destinations.to_json(dest, counts), status)


async def create_destination(request: Request) -> Response:
    key = api_key(request)
    rt = runtime(request)
    saved = await destinations_service.create(
        rt.store, rt.credentials_sealer, await read_json(request),
        allow_private=rt.settings.destination_allow_private,
    )  # fmt: skip
    await audit.record(rt.store, key_actor(key.prefix), "create", "destination", saved.id)
    return await _answer(request, saved, 201)


async def list_destinations(request: Request) -> Response:
    store = runtime(request).store
    items = []
    for dest in await store.list_destinations():
        items.append(destinations.to_json(dest, await store.outbox_counts(dest.id)))
    return json_response({"items": items})


async def get_destination(request: Request) -> Response:
    return await _answer(request, await _found(request))


async def update_destination(request: Request) -> Response:
    key = api_key(request)
    current = await _found(request)
    data = await read_json(request)
    rt = runtime(request)
    saved = await destinations_service.update(
        rt.store, rt.credentials_sealer, current, data,
        allow_private=rt.settings.destination_allow_private,
    )  # fmt: skip
    await audit.record(
        rt.store, key_actor(key.prefix), "update", "destination", saved.id, audit.fields(data)
    )
    return await _answer(request, saved)


async def delete_destination(request: Request) -> Response:
    key = api_key(request)
    dest = await _found(request)
    assert dest.id is not None
    store = runtime(request).store
    await store.delete_destination(dest.id)
    await audit.record(store, key_actor(key.prefix), "delete", "destination", dest.id)
    return Response(status_code=204)


async def list_deliveries(request: Request) -> Response:
    """The delivery log, newest first; `before` (an id) pages back."""
    dest = await _found(request)
    rows = runtime(request).store.list_deliveries
    return await paging.delivery_log(request, dest.id, rows, destinations.delivery_json)


async def replay(request: Request) -> Response:
    """Dead rows of this destination go back to pending (after a fix)."""
    dest = await _found(request)
    replayed = await runtime(request).store.replay_outbox(dest.id)
    return json_response({"replayed": replayed})


async def test_destination(request: Request) -> Response:
    """Send one test event in the platform's test mode; the answer. 409 when the platform
    has no test mode configured (`?live=true` sends a real one where none exists)."""
    only_known(request.query_params, {"live"})
    live = request.query_params.get("live", "false")
    if live not in ("true", "false"):
        raise InvalidField("live", "live must be true or false")
    dest = await _found(request)
    result = await probe(runtime(request).probe_forwarder, dest, live=live == "true")
    return json_response(
        {
            "event_id": result.event_id,
            "platform_test_mode": result.test_mode,
            "http_status": result.http_status,
            "status": result.outcome.status,
            "message": result.outcome.message,
            "answer": result.answer,
        }
    )


DESTINATION = Obj(
    {
        "platform": Str(enum=destinations.PLATFORMS),
        "name": Str(max_length=64),
        "credentials": Obj(extra=Anything(), max_properties=20,
                           description="the platform's credential fields (sealed at rest)"),
        "goals": Obj(extra=Str(max_length=128), max_properties=200,
                     description="goal name → platform event name"),
        "endpoint_base": Str(max_length=2048, nullable=True),
        "test_mode": Bool(),
        "options": Obj(extra=Anything(), max_properties=20),
        "enabled": Bool(),
    }
)  # fmt: skip
ID = "/api/v1/destinations/{destination_id:int}"

routes = [
    op("POST", "/api/v1/destinations", create_destination, scope="admin",
       summary="Connect an ad platform",
       body=replace(DESTINATION, required=("platform", "name", "credentials")),
       replies=[Reply(201, "The destination (credentials never shown)")]),
    op("GET", "/api/v1/destinations", list_destinations, replies=[ITEMS], scope="admin",
       summary="List destinations"),
    op("GET", ID, get_destination, scope="admin", summary="One destination"),
    op("PATCH", ID, update_destination, scope="admin", summary="Change a destination",
       body=DESTINATION),
    op("DELETE", ID, delete_destination, scope="admin", summary="Delete a destination",
       replies=[Reply(204, "Deleted", media=())]),
    op("GET", f"{ID}/deliveries", list_deliveries, replies=[ITEMS], scope="reports:read",
       summary="The delivery log, newest first", query=paging.PAGE),
    op("POST", f"{ID}/replay", replay, scope="admin", summary="Dead deliveries back to pending"),
    op("POST", f"{ID}/test", test_destination, scope="admin", summary="Send one test event",
       query=[Param("live", Str(enum=("true", "false")))]),
]  # fmt: skip
