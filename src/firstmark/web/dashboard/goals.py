"""Dashboard goals and conversions: the goals with a form to add one, and the latest
conversions with the link and campaign each was credited to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import goals
from firstmark.domain.links import Link, short_url
from firstmark.domain.roles import EDITOR, VIEWER
from firstmark.errors import Conflict, InvalidField
from firstmark.services import goals as goals_service
from firstmark.web.dashboard.views import Ctx, page

RECENT = 50


def goal_body(get: Callable[[str], str]) -> dict[str, Any]:
    """The goal form as the JSON the API takes: empty fields left out, numbers as numbers."""
    data: dict[str, Any] = {}
    for name in ("name", "kind", "event_name", "currency"):
        value = get(name).strip()
        if value or name == "name":
            data[name] = value
    raw_value = get("default_value").strip()
    if raw_value:
        try:
            data["default_value"] = float(raw_value.replace(",", "."))
        except ValueError:
            raise InvalidField("default_value", "default value must be a number") from None
    raw_window = get("window_days").strip()
    if raw_window:
        if not raw_window.isdigit():
            raise InvalidField("window_days", "window must be a whole number of days, 1-365")
        data["window_days"] = int(raw_window)
    return data


async def _page(
    ctx: Ctx,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    found, total = await ctx.store.list_conversions(None, RECENT, 0)
    links: dict[int, Link | None] = {}
    for conv in found:
        if conv.link_id is not None and conv.link_id not in links:
            links[conv.link_id] = await ctx.store.get_link(conv.link_id)
    rows = []
    for conv in found:
        link = links.get(conv.link_id) if conv.link_id is not None else None
        rows.append(
            {
                "conv": conv,
                "link": link,
                "short_url": short_url(link, ctx.settings.base_url) if link else None,
            }
        )
    return ctx.render(
        "conversions.html",
        status,
        goals=await ctx.store.list_goals(),
        kinds=goals.KINDS,
        values=values or {"kind": "macro", "window_days": str(goals.DEFAULT_WINDOW_DAYS)},
        errors=errors or {},
        rows=rows,
        total=total,
    )


async def conversions_page(ctx: Ctx) -> Response:
    return await _page(ctx)


async def create_goal(ctx: Ctx) -> Response:
    values = {name: ctx.value(name) for name in goals.FIELDS}
    try:
        saved = await goals_service.create(ctx.store, goal_body(ctx.value))
    except (InvalidField, Conflict) as exc:
        field = exc.field if exc.field in goals.FIELDS else "name"
        return await _page(ctx, 422, values, {field: exc.message})
    ctx.runtime.goals.invalidate()
    return ctx.redirect("/dashboard/conversions", flash={"message": f"Goal {saved.name} added."})


routes = [
    Route("/dashboard/conversions", page(conversions_page, role=VIEWER), methods=["GET"]),
    Route("/dashboard/goals", page(create_goal, role=EDITOR), methods=["POST"]),
]
