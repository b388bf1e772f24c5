"""REST API for the forwarding audit: the delivery log across destinations with filters, a
destination's daily match quality, the outbox queue and dead rows, and replaying one row."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import forwarding, stats
from firstmark.domain.destinations import (
    DeliveryFilter,
    delivery_json,
    outbox_row_json,
)
from firstmark.domain.schema import Int, Param, Str
from firstmark.domain.times import iso, parse_time
from firstmark.errors import InvalidField, NotFound
from firstmark.web.api import paging
from firstmark.web.api.contract import ITEMS, RANGE, Reply, op
from firstmark.web.http import json_response, only_known, query_int
from firstmark.web.runtime import runtime

DELIVERY_STATUSES = ("sent", "retry", "dead")
OUTBOX_STATUSES = ("pending", "sending", "retry", "dead")
MAX_QUALITY_DAYS = 90
MAX_EVENT_ID = 128


def _instant(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    when = parse_time(name, raw) if raw else None
    return None if when is None else when.timestamp()


def _choice(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query_params.get(name)
    if value is not None and value not in allowed:
        raise InvalidField(name, f"{name} must be one of {', '.join(allowed)}")
    return value


async def list_delivery_log(request: Request) -> Response:
    """Every delivery attempt, newest first: filter by destination, status, from, to and
    event_id; `before` (an id) pages back."""
    only_known(
        request.query_params,
        {"destination", "status", "from", "to", "event_id", "limit", "before"},
    )
    destination = query_int(request, "destination", 0, 0, 2**62) or None
    event_id = request.query_params.get("event_id")
    if event_id is not None and not 0 < len(event_id) <= MAX_EVENT_ID:
        raise InvalidField("event_id", f"event_id must be 1-{MAX_EVENT_ID} characters")
    limit = paging.limit(request)
    where = DeliveryFilter(
        destination_id=destination,
        status=_choice(request, "status", DELIVERY_STATUSES),
        since=_instant(request, "from"),
        until=_instant(request, "to"),
        event_id=event_id,
        before_id=paging.before(request),
        limit=limit,
    )
    if where.since is not None and where.until is not None and where.since >= where.until:
        raise InvalidField("from", "from must be earlier than to")
    found = await runtime(request).store.list_deliveries(where=where)
    return paging.page(found, limit, delivery_json)


async def destination_quality(request: Request) -> Response:
    """Per day: attempts by status and the share of events that carried each identifier
    the platform matches on, with hints for what is missing most."""
    params = only_known(request.query_params, {"from", "to"})
    store = runtime(request).store
    dest_id: int = request.path_params["destination_id"]
    dest = await store.get_destination(dest_id)
    if dest is None:
        raise NotFound(f"no destination with id {dest_id}")
    span = stats.parse_range({**params, "interval": "day"}, datetime.now(UTC))
    if (span.end - span.start).days > MAX_QUALITY_DAYS:
        raise InvalidField("to", f"at most {MAX_QUALITY_DAYS} days per request")
    rows = await store.delivery_quality(dest_id, span.start.timestamp(), span.end.timestamp())
    days = forwarding.quality(dest.platform, rows)
    return json_response(
        {
            "destination_id": dest_id,
            "platform": dest.platform,
            "from": iso(span.start),
            "to": iso(span.end),
            "identifiers": list(forwarding.KEY_IDENTIFIERS.get(dest.platform, ("em",))),
            "days": [d.to_json() for d in days],
            "hints": forwarding.hints(dest.platform, days),
        }
    )


async def list_outbox(request: Request) -> Response:
    """Outbox rows, newest first (`status`: pending, sending, retry or dead)."""
    only_known(request.query_params, {"status", "destination", "limit", "before"})
    limit = paging.limit(request)
    rows = await runtime(request).store.list_outbox(
        _choice(request, "status", OUTBOX_STATUSES),
        query_int(request, "destination", 0, 0, 2**62) or None,
        limit,
        paging.before(request),
    )
    return paging.page(rows, limit, outbox_row_json)


async def replay_row(request: Request) -> Response:
    """One dead row goes back to pending, due now (404 when no dead row has the id)."""
    outbox_id: int = request.path_params["outbox_id"]
    replayed = await runtime(request).store.replay_outbox(outbox_ids=[outbox_id])
    if not replayed:
        raise NotFound(f"no dead outbox row with id {outbox_id}")
    return json_response({"replayed": replayed})


ID = Int(0, paging.MAX_ID)
DELIVERY_QUERY = (
    Param("destination", ID, description="one destination's attempts"),
    Param("status", Str(enum=DELIVERY_STATUSES)),
    *RANGE,
    Param("event_id", Str(max_length=MAX_EVENT_ID)),
    *paging.PAGE,
)
OUTBOX_QUERY = (
    Param("status", Str(enum=OUTBOX_STATUSES)),
    Param("destination", ID, description="one destination's rows"),
    *paging.PAGE,
)

routes = [
    op("GET", "/api/v1/deliveries", list_delivery_log, scope="reports:read", query=DELIVERY_QUERY,
       replies=[ITEMS], summary="Delivery attempts across destinations, newest first"),
    op("GET", "/api/v1/destinations/{destination_id:int}/quality", destination_quality,
       scope="reports:read", query=RANGE,
       summary="A destination's daily match quality, with hints"),
    op("GET", "/api/v1/outbox", list_outbox, scope="reports:read", query=OUTBOX_QUERY,
       replies=[ITEMS], summary="Outbox rows, newest first"),
    op("POST", "/api/v1/outbox/{outbox_id:int}/replay", replay_row, scope="admin",
       replies=[Reply(200, "How many rows went back to pending")],
       summary="One dead outbox row back to pending"),
]  # fmt: skip
