"""REST API for tracking numbers and their DNI pools."""

from __future__ import annotations

import time
from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import numbers
from firstmark.domain.numbers import TrackingNumber
from firstmark.domain.schema import Bool, Int, Obj, Param, Str
from firstmark.errors import InvalidField, NotFound
from firstmark.services import numbers as numbers_service
from firstmark.web.api.contract import ITEMS, Reply, op
from firstmark.web.http import json_response, only_known, read_json
from firstmark.web.runtime import runtime


def _now() -> float:
    return time.time()


async def _found(request: Request) -> TrackingNumber:
    number_id: int = request.path_params["number_id"]
    number = await runtime(request).store.get_number(number_id)
    if number is None:
        raise NotFound(f"no tracking number with id {number_id}")
    return number


async def create_number(request: Request) -> Response:
    saved = await numbers_service.register(runtime(request).store, await read_json(request), _now())
    _changed(request)
    return json_response(numbers.to_json(saved), 201)


async def list_numbers(request: Request) -> Response:
    params = only_known(request.query_params, {"released", "pool"})
    released = params.get("released", "false")
    if released not in ("true", "false"):
        raise InvalidField("released", "released must be true or false")
    found = await runtime(request).store.list_numbers(released=released == "true")
    if params.get("pool"):
        found = [n for n in found if n.pool == params["pool"]]
    return json_response({"items": [numbers.to_json(n) for n in found]})


async def get_number(request: Request) -> Response:
    return json_response(numbers.to_json(await _found(request)))


async def update_number(request: Request) -> Response:
    current = await _found(request)
    if current.released_at is not None:
        raise NotFound(f"tracking number {current.id} was released")
    saved = await numbers_service.change(
        runtime(request).store, current, await read_json(request), _now()
    )
    _changed(request)
    return json_response(numbers.to_json(saved))


async def release_number(request: Request) -> Response:
    """Release: calls to it are no longer forwarded; its calls stay in the log and reports."""
    current = await _found(request)
    assert current.id is not None
    if current.released_at is None:
        await numbers_service.release(runtime(request).store, current.id, _now())
        _changed(request)
    return Response(status_code=204)


async def list_pools(request: Request) -> Response:
    found = await runtime(request).store.list_pools(_now())
    return json_response(
        {"items": [numbers.pool_to_json(pool, n, leased) for pool, n, leased in found]}
    )


async def put_pool(request: Request) -> Response:
    store = runtime(request).store
    saved = await numbers_service.set_pool(
        store, request.path_params["name"], await read_json(request), _now()
    )
    _changed(request)
    for pool, n, leased in await store.list_pools(_now()):
        if pool.name == saved.name:
            return json_response(numbers.pool_to_json(pool, n, leased))
    return json_response(numbers.pool_to_json(saved, 0, 0))


def _changed(request: Request) -> None:
    """Drop this process's cached pools (webhooks and /n read them)."""
    runtime(request).pools.invalidate()


TEXT = Str(max_length=255, nullable=True)
NUMBER = Obj(
    {
        "number": Str(max_length=32, description="E.164 or national with region"),
        "region": Str(max_length=2, nullable=True),
        "provider": Str(max_length=32),
        "forward_to": Str(max_length=32),
        "label": TEXT,
        "pool": TEXT,
        "link_id": Int(1, nullable=True),
        "campaign": TEXT,
        "qualify_seconds": Int(0, 86_400, nullable=True),
        "record": Bool(),
        "fallback_to": Str(max_length=32, nullable=True),
        "hours": TEXT,
        "timezone": Str(max_length=64, nullable=True),
        "goal": Str(max_length=64, nullable=True),
    }
)
POOL = Obj(
    {
        "fallback": Str(max_length=32, nullable=True),
        "region": Str(max_length=2, nullable=True),
        "site": Str(max_length=64, nullable=True),
        "lease_minutes": Int(5, 1440),
    }
)

routes = [
    op("POST", "/api/v1/numbers", create_number, scope="links:write",
       summary="Register a tracking number",
       body=replace(NUMBER, required=("number", "provider", "forward_to")),
       replies=[Reply(201, "The number")]),
    op("GET", "/api/v1/numbers", list_numbers,
       replies=[ITEMS], scope="links:read", summary="List numbers",
       query=[Param("released", Str(enum=("true", "false"))), Param("pool", Str(max_length=64))]),
    op("GET", "/api/v1/numbers/{number_id:int}", get_number, scope="links:read",
       summary="One number"),
    op("PATCH", "/api/v1/numbers/{number_id:int}", update_number, scope="links:write",
       summary="Change a number", body=NUMBER),
    op("DELETE", "/api/v1/numbers/{number_id:int}", release_number, scope="links:write",
       summary="Release a number", replies=[Reply(204, "Released", media=())]),
    op("GET", "/api/v1/pools", list_pools,
       replies=[ITEMS], scope="links:read", summary="List DNI pools"),
    op("PUT", "/api/v1/pools/{name}", put_pool, scope="links:write",
       summary="Create or change a DNI pool", body=POOL),
]  # fmt: skip
