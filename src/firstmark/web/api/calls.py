"""REST API for the calls log: calls to tracking numbers, newest first, filtered."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import calls
from firstmark.domain.calls import STATUSES
from firstmark.domain.schema import Int, Param, Str
from firstmark.domain.times import parse_time
from firstmark.errors import InvalidField
from firstmark.store import CallQuery
from firstmark.web.api.contract import ITEMS, PAGE, op
from firstmark.web.http import json_response, only_known, query_int
from firstmark.web.runtime import runtime


def _epoch(request: Request, name: str) -> float | None:
    parsed = parse_time(name, request.query_params.get(name) or None)
    return None if parsed is None else parsed.timestamp()


async def list_calls(request: Request) -> Response:
    """The calls log, newest first. Filters: number (id), status (or `qualified`), campaign,
    since/until (ISO dates or times)."""
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


routes = [
    op("GET", "/api/v1/calls", list_calls,
       replies=[ITEMS], scope="reports:read", summary="The calls log",
       query=[
           Param("number", Int(1), description="a tracking number's id"),
           Param("status", Str(enum=(*STATUSES, "qualified"))),
           Param("campaign", Str(max_length=255)),
           Param("since", Str(max_length=64), description="ISO 8601 date or date-time"),
           Param("until", Str(max_length=64), description="ISO 8601 date or date-time"),
           *PAGE,
       ]),
]  # fmt: skip
