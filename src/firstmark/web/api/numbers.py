"""REST API for tracking numbers, DNI pools and the calls log."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import calls, numbers
from firstmark.domain.calls import STATUSES
from firstmark.domain.numbers import TrackingNumber
from firstmark.errors import InvalidField, NotFound
from firstmark.services import numbers as numbers_service
from firstmark.store.protocol import CallQuery
from firstmark.web.api.auth import require
from firstmark.web.http import json_response, only_known, query_int, read_json
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
    await require(request, "links:write")
    saved = await numbers_service.register(runtime(request).store, await read_json(request), _now())
    _changed(request)
    return json_response(numbers.to_json(saved), 201)


async def list_numbers(request: Request) -> Response:
    await require(request, "links:read")
    params = only_known(request.query_params, {"released", "pool"})
    released = params.get("released", "false")
    if released not in ("true", "false"):
        raise InvalidField("released", "released must be true or false")
    found = await runtime(request).store.list_numbers(released=released == "true")
    if params.get("pool"):
        found = [n for n in found if n.pool == params["pool"]]
    return json_response({"items": [numbers.to_json(n) for n in found]})


async def get_number(request: Request) -> Response:
    await require(request, "links:read")
    return json_response(numbers.to_json(await _found(request)))


async def update_number(request: Request) -> Response:
    await require(request, "links:write")
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
    await require(request, "links:write")
    current = await _found(request)
    assert current.id is not None
    if current.released_at is None:
        await numbers_service.release(runtime(request).store, current.id, _now())
        _changed(request)
    return Response(status_code=204)


async def list_pools(request: Request) -> Response:
    await require(request, "links:read")
    found = await runtime(request).store.list_pools(_now())
    return json_response(
        {"items": [numbers.pool_to_json(pool, n, leased) for pool, n, leased in found]}
    )


async def put_pool(request: Request) -> Response:
    await require(request, "links:write")
    store = runtime(request).store
    saved = await numbers_service.set_pool(
        store, request.path_params["name"], await read_json(request), _now()
    )
    _changed(request)
    for pool, n, leased in await store.list_pools(_now()):
        if pool.name == saved.name:
            return json_response(numbers.pool_to_json(pool, n, leased))
    return json_response(numbers.pool_to_json(saved, 0, 0))


def _epoch(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidField(name, f"{name} must be a date or time like 2026-11-25") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


async def list_calls(request: Request) -> Response:
    """The calls log, newest first. Filters: number (id), status (or `qualified`), campaign,
    since/until (ISO dates or times)."""
    await require(request, "reports:read")
    params = only_known(
        request.query_params, {"number", "status", "campaign", "since", "until", "page", "per_page"}
    )
    status = params.get("status") or None
    if status is not None and status not in (*STATUSES, "qualified"):
        raise InvalidField("status", f"status must be one of {', '.join(STATUSES)} or qualified")
    number_id = None
    if params.get("number"):
        if not params["number"].isdigit():
            raise InvalidField("number", "number must be a tracking number's id")
        number_id = int(params["number"])
    page = query_int(request, "page", 1, 1, 1_000_000)
    per_page = query_int(request, "per_page", 50, 1, 500)
    store = runtime(request).store
    query = CallQuery(
        number_id=number_id,
        status=status,
        campaign=params.get("campaign") or None,
        since=_epoch(request, "since"),
        until=_epoch(request, "until"),
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    found, total = await store.list_calls(query)
    by_id = {n.id: n for n in await store.list_numbers(released=True)}
    return json_response(
        {
            "items": [calls.to_json(c, by_id.get(c.number_id)) for c in found],
            "page": page,
            "per_page": per_page,
            "total": total,
        }
    )


def _changed(request: Request) -> None:
    """Drop this process's cached pools (webhooks and /n read them)."""
    runtime(request).pools.invalidate()


routes = [
    Route("/api/v1/numbers", create_number, methods=["POST"]),
    Route("/api/v1/numbers", list_numbers, methods=["GET"]),
    Route("/api/v1/numbers/{number_id:int}", get_number, methods=["GET"]),
    Route("/api/v1/numbers/{number_id:int}", update_number, methods=["PATCH"]),
    Route("/api/v1/numbers/{number_id:int}", release_number, methods=["DELETE"]),
    Route("/api/v1/pools", list_pools, methods=["GET"]),
    Route("/api/v1/pools/{name}", put_pool, methods=["PUT"]),
    Route("/api/v1/calls", list_calls, methods=["GET"]),
]
