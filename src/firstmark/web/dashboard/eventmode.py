"""Dashboard event mode of a link: a printed code that leads elsewhere before, during and after
an event, then retires to a fallback (docs/qr.md, Event mode). Turn it on or change it, retire
it now, or turn it off; the work is firstmark.services.qr, shared with /api/v1/links/{id}/event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import schedules
from firstmark.domain.links import Link
from firstmark.domain.roles import EDITOR
from firstmark.domain.schedules import Schedule
from firstmark.domain.urls import validate_destination
from firstmark.errors import InvalidField, NotFound
from firstmark.services import audit
from firstmark.services import links as links_service
from firstmark.services import qr as qr_service
from firstmark.web.dashboard.views import Ctx, actor, confirm_page, confirmed, page

TIMES = ("starts_at", "ends_at", "retire_at")
URLS = ("before_url", "during_url", "after_url", "fallback_url")
FIELDS = (*TIMES, *URLS)
assert set(FIELDS) == schedules.FIELDS


def form_values(schedule: Schedule | None) -> dict[str, str]:
    """A schedule as the form shows it: times as datetime-local values in UTC."""
    if schedule is None:
        return {}
    out: dict[str, str] = {}
    for name in FIELDS:
        value = getattr(schedule, name)
        if isinstance(value, datetime):
            out[name] = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
        elif value:
            out[name] = value
    return out


def event_body(values: dict[str, str]) -> dict[str, str]:
    """The form as the JSON the API takes: empty fields left out."""
    return {name: value.strip() for name, value in values.items() if value.strip()}


async def _link(ctx: Ctx) -> Link:
    return await links_service.get_link(ctx.store, ctx.request.path_params["link_id"])


async def _forget_cached(ctx: Ctx, link: Link) -> None:
    """Every placement of the link follows its schedule: drop them all from the link cache."""
    ctx.runtime.cache.invalidate(*await qr_service.family(ctx.store, link))


def _render(
    ctx: Ctx, link: Link, schedule: Schedule | None, status: int = 200, **extra: Any
) -> Response:
    values = extra.pop("values", None)
    return ctx.render(
        "event_form.html",
        status,
        link=link,
        schedule=schedule,
        phase=schedule.phase(datetime.now(UTC)) if schedule else None,
        values=form_values(schedule) if values is None else values,
        errors=extra.pop("errors", {}),
        retire_values=extra.pop("retire_values", {}),
        retire_errors=extra.pop("retire_errors", {}),
    )


async def event_page(ctx: Ctx) -> Response:
    link = await _link(ctx)
    assert link.id is not None
    schedule = await ctx.store.get_schedule(link.id)
    if ctx.request.method == "GET":
        return _render(ctx, link, schedule)
    values = {name: ctx.value(name) for name in FIELDS}
    try:
        await qr_service.set_event(ctx.store, ctx.settings, link, event_body(values))
    except InvalidField as exc:
        errors = {exc.field if exc.field in FIELDS else "starts_at": exc.message}
        return _render(ctx, link, schedule, 422, values=values, errors=errors)
    await _forget_cached(ctx, link)
    await audit.record(ctx.store, actor(ctx), "set_event", "link", link.id)
    message = "Event mode is on: " + ("schedule saved." if schedule else "the schedule applies.")
    return ctx.redirect(f"/dashboard/links/{link.id}#event", flash={"message": message})


async def retire_event(ctx: Ctx) -> Response:
    link = await _link(ctx)
    assert link.id is not None
    raw = ctx.value("retire_fallback").strip()  # its own name: the page holds both forms
    try:
        fallback = (
            validate_destination(
                raw, "fallback_url", allowed_hosts=ctx.settings.allowed_destination_hosts
            )
            if raw
            else None
        )
        retired = await qr_service.retire_event(ctx.store, link, fallback)
    except InvalidField as exc:
        schedule = await ctx.store.get_schedule(link.id)
        errors = {"retire_fallback": exc.message}
        return _render(
            ctx, link, schedule, 422, retire_values={"retire_fallback": raw}, retire_errors=errors
        )
    await _forget_cached(ctx, link)
    await audit.record(ctx.store, actor(ctx), "retire_event", "link", link.id)
    summary = retired.summary or {}
    message = (
        f"Event retired: its codes now lead to {retired.fallback_url}. "
        f"{summary.get('scans', 0)} scans in all."
    )
    return ctx.redirect(f"/dashboard/links/{link.id}#event", flash={"message": message})


async def event_off(ctx: Ctx) -> Response:
    link = await _link(ctx)
    assert link.id is not None
    if not confirmed(ctx):
        if await ctx.store.get_schedule(link.id) is None:
            raise NotFound(f"Link {link.code} is not in event mode.")
        return confirm_page(
            ctx,
            title=f"Turn event mode off for {link.code}?",
            message=f"{link.code} and its placements will lead to its destination again, and "
            "the event's schedule and summary are removed.",
            button="Turn event mode off",
            back=f"/dashboard/links/{link.id}#event",
        )
    if not await ctx.store.delete_schedule(link.id):
        raise NotFound(f"Link {link.code} is not in event mode.")
    await _forget_cached(ctx, link)
    await audit.record(ctx.store, actor(ctx), "delete_event", "link", link.id)
    message = f"Event mode is off: {link.code} and its placements lead to its destination again."
    return ctx.redirect(f"/dashboard/links/{link.id}#event", flash={"message": message})


# Editors change links, as in the API (`links:write`).
EVENT = "/dashboard/links/{link_id:int}/event"
routes = [
    Route(EVENT, page(event_page, role=EDITOR), methods=["GET", "POST"]),
    Route(f"{EVENT}/retire", page(retire_event, role=EDITOR), methods=["POST"]),
    Route(f"{EVENT}/off", page(event_off, role=EDITOR), methods=["POST"]),
]
