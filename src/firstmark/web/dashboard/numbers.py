"""Dashboard tracking numbers and calls: the numbers with a form to add one and a button to
release one, the DNI pools with a form to set one up, and the calls log. Forms go through
firstmark.services.numbers, the code behind /api/v1/numbers and `firstmark number`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import numbers
from firstmark.domain.calls import STATUSES, Call
from firstmark.domain.numbers import PROVIDERS, TrackingNumber
from firstmark.domain.phones import display
from firstmark.domain.roles import EDITOR, VIEWER
from firstmark.errors import Conflict, InvalidField, NotFound
from firstmark.services import numbers as numbers_service
from firstmark.store import CallQuery
from firstmark.web.dashboard.views import Ctx, confirm_page, confirmed, page

PER_PAGE = 50
NUMBER_FIELDS = (
    "number", "region", "provider", "forward_to", "label", "pool", "link_id", "campaign",
    "qualify_seconds", "fallback_to", "hours", "timezone",
)  # fmt: skip
POOL_FIELDS = ("name", "fallback", "lease_minutes", "site")
STATUS_CHOICES = (*STATUSES, "qualified")


def _whole(raw: str, field: str, message: str) -> int:
    if not raw.isdigit():
        raise InvalidField(field, message)
    return int(raw)


def number_body(get: Callable[[str], str]) -> dict[str, Any]:
    """The number form as the JSON the API takes: empty fields left out, numbers as numbers."""
    data: dict[str, Any] = {}
    for name in NUMBER_FIELDS:
        value = get(name).strip()
        if value or name in ("number", "provider", "forward_to"):
            data[name] = value
    if "link_id" in data:
        data["link_id"] = _whole(data["link_id"], "link_id", "link must be a link's id, e.g. 12")
    if "qualify_seconds" in data:
        data["qualify_seconds"] = _whole(
            data["qualify_seconds"], "qualify_seconds", "qualifying duration must be seconds"
        )
    if get("record"):
        data["record"] = True
    return data


def pool_body(get: Callable[[str], str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in ("fallback", "site"):
        value = get(name).strip()
        if value:
            data[name] = value
    minutes = get("lease_minutes").strip()
    if minutes:
        data["lease_minutes"] = _whole(
            minutes, "lease_minutes", "lease must be a whole number of minutes, 5-1440"
        )
    return data


def _forget_cached(ctx: Ctx) -> None:
    """Drop this process's cached pools, which webhooks and /n read."""
    ctx.runtime.pools.invalidate()


async def _bindings(ctx: Ctx, found: list[TrackingNumber]) -> dict[int, Any]:
    """The links numbers are bound to, by id (a handful: one per printed number)."""
    out: dict[int, Any] = {}
    for number in found:
        if number.link_id is not None and number.link_id not in out:
            out[number.link_id] = await ctx.store.get_link(number.link_id)
    return out


async def _page(
    ctx: Ctx,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    pool_values: dict[str, str] | None = None,
    pool_errors: dict[str, str] | None = None,
) -> Response:
    found = await ctx.store.list_numbers()
    return ctx.render(
        "numbers.html",
        status,
        numbers=[{"n": n, "display": display(n.e164)} for n in found],
        links=await _bindings(ctx, found),
        pools=await ctx.store.list_pools(time.time()),
        providers=PROVIDERS,
        values=values or {"provider": PROVIDERS[0], "qualify_seconds": "60"},
        errors=errors or {},
        pool_values=pool_values or {"lease_minutes": str(numbers.DEFAULT_LEASE_S // 60)},
        pool_errors=pool_errors or {},
    )


async def numbers_page(ctx: Ctx) -> Response:
    return await _page(ctx)


async def add_number(ctx: Ctx) -> Response:
    values = {name: ctx.value(name) for name in (*NUMBER_FIELDS, "record")}
    try:
        saved = await numbers_service.register(ctx.store, number_body(ctx.value), time.time())
    except (InvalidField, Conflict) as exc:
        field = exc.field if exc.field in NUMBER_FIELDS else "number"
        return await _page(ctx, 422, values, {field: exc.message})
    _forget_cached(ctx)
    message = f"Number {display(saved.e164)} added."
    return ctx.redirect("/dashboard/numbers", flash={"message": message})


async def release_number(ctx: Ctx) -> Response:
    number_id: int = ctx.request.path_params["number_id"]
    try:
        found = await numbers_service.find(ctx.store, number_id)
        if not confirmed(ctx):
            shown = display(found.e164) + (f" ({found.label})" if found.label else "")
            return confirm_page(
                ctx,
                title="Release this number?",
                message=f"Release {shown}? Calls to it are no longer forwarded or counted; "
                "its calls stay in the log and the reports.",
                button=f"Release {display(found.e164)}",
                back="/dashboard/numbers",
            )
        released = await numbers_service.release(ctx.store, number_id, time.time())
    except NotFound:
        error = f"No tracking number #{number_id} to release."
        return ctx.redirect("/dashboard/numbers", flash={"error": error})
    _forget_cached(ctx)
    message = f"Number {display(released.e164)} released; its calls stay in the log."
    return ctx.redirect("/dashboard/numbers", flash={"message": message})


async def set_pool(ctx: Ctx) -> Response:
    values = {name: ctx.value(name) for name in POOL_FIELDS}
    try:
        saved = await numbers_service.set_pool(
            ctx.store, ctx.value("name").strip(), pool_body(ctx.value), time.time()
        )
    except InvalidField as exc:
        field = exc.field if exc.field in POOL_FIELDS else "name"
        return await _page(ctx, 422, pool_values=values, pool_errors={field: exc.message})
    _forget_cached(ctx)
    return ctx.redirect("/dashboard/numbers", flash={"message": f"Pool {saved.name} saved."})


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}:{rest:02d}"


def _call_row(call: Call, number: TrackingNumber | None) -> dict[str, Any]:
    return {
        "c": call,
        "number": display(number.e164) if number else f"#{call.number_id}",
        "label": number.label if number else "",
        "caller": f"…{call.caller_last2}" if call.caller_last2 else "—",
        "duration": _duration(call.duration_s),
        "qualified": call.conversion_id is not None,
    }


async def calls_page(ctx: Ctx) -> Response:
    """The calls log, newest first; filters by number and status (bad ones are named and
    left out)."""
    query = ctx.request.query_params
    errors: dict[str, str] = {}
    every = await ctx.store.list_numbers(released=True)
    by_id = {n.id: n for n in every}
    number_id: int | None = None
    raw_number = query.get("number", "")
    if raw_number:
        if raw_number.isdigit() and int(raw_number) in by_id:
            number_id = int(raw_number)
        else:
            errors["number"] = "Choose a number from the list."
    status = query.get("status", "") or None
    if status is not None and status not in STATUS_CHOICES:
        errors["status"] = f"Status must be one of {', '.join(STATUS_CHOICES)}."
        status = None
    raw_page = query.get("page", "1")
    page_no = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) <= 100_000 else 1
    found, total = await ctx.store.list_calls(
        CallQuery(
            number_id=number_id,
            status=status,
            limit=PER_PAGE,
            offset=(page_no - 1) * PER_PAGE,
        )
    )
    kept = {k: v for k, v in (("number", str(number_id or "")), ("status", status or "")) if v}
    pages = max(1, -(-total // PER_PAGE))
    return ctx.render(
        "calls.html",
        rows=[_call_row(c, by_id.get(c.number_id)) for c in found],
        total=total,
        numbers=[{"n": n, "display": display(n.e164)} for n in every],
        statuses=STATUS_CHOICES,
        chosen={"number": number_id, "status": status},
        errors=errors,
        page_no=page_no,
        pages=pages,
        prev_url=f"?{urlencode({**kept, 'page': page_no - 1})}" if page_no > 1 else None,
        next_url=f"?{urlencode({**kept, 'page': page_no + 1})}" if page_no < pages else None,
    )


routes = [
    Route("/dashboard/numbers", page(numbers_page, role=VIEWER), methods=["GET"]),
    Route("/dashboard/numbers", page(add_number, role=EDITOR), methods=["POST"]),
    Route(
        "/dashboard/numbers/{number_id:int}/release",
        page(release_number, role=EDITOR),
        methods=["POST"],
    ),
    Route("/dashboard/pools", page(set_pool, role=EDITOR), methods=["POST"]),
    Route("/dashboard/calls", page(calls_page, role=VIEWER), methods=["GET"]),
]
