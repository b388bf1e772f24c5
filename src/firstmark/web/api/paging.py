"""Lists that page back by id, newest first (delivery logs, the outbox): `limit` rows (100 by
default) older than `before`, with the `next_before` that asks for the next page (null on the
last)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain.schema import Int, Param
from firstmark.web.http import json_response, only_known, query_int

MAX_ID = 2**62
PAGE = (
    Param("limit", Int(1, 1000), description="rows per answer (100 by default)"),
    Param("before", Int(0, MAX_ID), description="the `next_before` of the previous answer"),
)


class Row(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=Row)


def limit(request: Request) -> int:
    return query_int(request, "limit", 100, 1, 1000)


def before(request: Request) -> int | None:
    return query_int(request, "before", 0, 0, MAX_ID) or None


def page(rows: Sequence[R], limit: int, to_json: Callable[[R], Any]) -> Response:
    """The answer: the rows, and where the next page starts when this one is full."""
    return json_response(
        {
            "items": [to_json(r) for r in rows],
            "next_before": rows[-1].id if len(rows) == limit else None,
        }
    )


async def delivery_log(
    request: Request,
    owner_id: int | None,
    rows: Callable[[int, int, int | None], Awaitable[Sequence[R]]],
    to_json: Callable[[R], Any],
) -> Response:
    """One page of a destination's or an endpoint's delivery log: `rows(owner_id, limit,
    before)` reads it from the store."""
    only_known(request.query_params, {"limit", "before"})
    assert owner_id is not None  # None would read every owner's log
    size = limit(request)
    return page(await rows(owner_id, size, before(request)), size, to_json)
