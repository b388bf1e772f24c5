"""Dashboard link pages: the list, create and edit with the UTM builder, detail, archive and
unarchive."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from firstmark.domain import links, stats
from firstmark.domain.dimensions import BREAKDOWN_NAMES, LINK_FILTERS
from firstmark.domain.links import Link
from firstmark.domain.roles import EDITOR, VIEWER
from firstmark.domain.utm import UTM_FIELDS, UtmWarning, taxonomy_warnings
from firstmark.errors import Conflict, InvalidField
from firstmark.services import audit
from firstmark.services import calls as calls_service
from firstmark.services import links as links_service
from firstmark.services import qr as qr_service
from firstmark.store import LinkQuery
from firstmark.web.dashboard import charts, forms, qr
from firstmark.web.dashboard.views import (
    Ctx,
    actor,
    column,
    confirm_page,
    confirmed,
    date_range,
    day_labels,
    page,
)

PER_PAGE = 25
BREAKDOWN_ROWS = 10
BREAKDOWN_LABELS = {
    "country": "Country",
    "device": "Device",
    "os": "Operating system",
    "browser": "Browser",
    "referrer": "Referrer",
    "language": "Language",
}
assert set(BREAKDOWN_LABELS) <= set(BREAKDOWN_NAMES)


def _link_id(ctx: Ctx) -> int:
    link_id: int = ctx.request.path_params["link_id"]
    return link_id


def _warnings_by_field(warnings: list[UtmWarning]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for w in warnings:
        out.setdefault(w.field, []).append(w.message)
    return out


# --- list -----------------------------------------------------------------------------------


async def link_list(ctx: Ctx) -> Response:
    params = ctx.request.query_params
    filters = {name: params[name] for name in LINK_FILTERS if params.get(name)}
    filters.pop("domain", None)
    archived_raw = params.get("archived", "false")
    archived = {"true": True, "false": False, "all": None}.get(archived_raw, False)
    raw_page = params.get("page", "1")
    number = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 1_000_000 else 1
    search = params.get("q", "").strip()
    found, total = await ctx.store.list_links(
        LinkQuery(
            filters=filters,
            search=search or None,
            archived=archived,
            limit=PER_PAGE,
            offset=(number - 1) * PER_PAGE,
        )
    )
    rows = [
        {
            "link": link,
            "short_url": links.short_url(link, ctx.settings.base_url),
            "humans": await ctx.store.human_hit_count(link.id or 0),
        }
        for link in found
    ]
    kept = {k: v for k, v in {**filters, "q": search, "archived": archived_raw}.items() if v}
    pages = max(1, -(-total // PER_PAGE))

    def page_url(n: int) -> str:
        return "/dashboard/links?" + urlencode({**kept, "page": n})

    return ctx.render(
        "links.html",
        rows=rows,
        total=total,
        page=number,
        pages=pages,
        prev_url=page_url(number - 1) if number > 1 else None,
        next_url=page_url(number + 1) if number < pages else None,
        search=search,
        filters=filters,
        archived=archived_raw,
        in_use=await ctx.store.utm_values_in_use(),
    )


# --- create and edit ------------------------------------------------------------------------


async def _form_context(
    ctx: Ctx,
    values: Mapping[str, str],
    *,
    link: Link | None,
    errors: Mapping[str, str] | None = None,
    warnings: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    return {
        "values": values,
        "link": link,
        "errors": errors or {},
        "warnings": warnings or {},
        "utm_fields": UTM_FIELDS,
        "in_use": await ctx.store.utm_values_in_use(),  # suggestions in the UTM builder
        "token_param": ctx.settings.click_token_param,
        "final_url": forms.final_url(link) if link is not None else "",
    }


def _error(exc: InvalidField | Conflict) -> dict[str, str]:
    field = exc.field if exc.field in forms.FIELDS else "form"
    if exc.field and exc.field.startswith("variants["):
        field = "variants"  # one editor holds them all
    return {field or "form": exc.message}


async def link_new(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        preset = {k: v for k, v in ctx.request.query_params.items() if k in forms.FIELDS}
        values = {"click_token": "on", "noindex": "on", "redirect_status": "302", **preset}
        return ctx.render("link_form.html", **await _form_context(ctx, values, link=None))
    get, has = ctx.value, _has(ctx)
    try:
        data = forms.body(get, has, editing=False)
        prepared = await links_service.create_link(
            ctx.store, links_service.policy(ctx.settings), data, ctx.runtime.workers
        )
    except (InvalidField, Conflict) as exc:
        values = forms.submitted(get, has)
        context = await _form_context(ctx, values, link=None, errors=_error(exc))
        return ctx.render("link_form.html", 422, **context)
    link = prepared.link
    ctx.runtime.cache.invalidate(link)
    await audit.record(ctx.store, actor(ctx), "create", "link", link.id)
    flash: dict[str, Any] = {"message": f"Created {links.short_url(link, ctx.settings.base_url)}"}
    if prepared.warnings:
        flash["warnings"] = _warnings_by_field(prepared.warnings)
        return ctx.redirect(f"/dashboard/links/{link.id}/edit", flash=flash)
    return ctx.redirect(f"/dashboard/links/{link.id}", flash=flash)


def _has(ctx: Ctx) -> Any:
    return lambda name: ctx.form is not None and name in ctx.form


async def link_edit(ctx: Ctx) -> Response:
    link = await links_service.get_link(ctx.store, _link_id(ctx))
    if ctx.request.method == "GET":
        flashed = (ctx.flash or {}).get("warnings") or {}
        context = await _form_context(ctx, forms.values_of(link), link=link, warnings=flashed)
        return ctx.render("link_form.html", **context)
    get, has = ctx.value, _has(ctx)
    try:
        if get("version") != str(link.version):
            raise Conflict("The link was changed elsewhere meanwhile. Reload and edit again.")
        data = forms.body(get, has, editing=True)
        prepared = await links_service.update_link(
            ctx.store, links_service.policy(ctx.settings), link.id or 0, data, ctx.runtime.workers
        )
    except (InvalidField, Conflict) as exc:
        values = forms.submitted(get, has)
        context = await _form_context(ctx, values, link=link, errors=_error(exc))
        return ctx.render("link_form.html", 422, **context)
    ctx.runtime.cache.invalidate(link, prepared.link)
    await audit.record(
        ctx.store,
        actor(ctx),
        "update",
        "link",
        link.id,
        audit.fields(data),
    )
    flash: dict[str, Any] = {"message": "Saved."}
    if prepared.warnings:
        flash["warnings"] = _warnings_by_field(prepared.warnings)
        return ctx.redirect(f"/dashboard/links/{link.id}/edit", flash=flash)
    return ctx.redirect(f"/dashboard/links/{link.id}", flash=flash)


async def utm_check(ctx: Ctx) -> Response:
    """Taxonomy warnings for UTM values as typed, for the builder to show while typing."""
    raw = {
        name: value[:200]
        for name in UTM_FIELDS
        if (value := ctx.request.query_params.get(name, "").strip())
    }
    policy = links_service.policy(ctx.settings)
    assert policy.taxonomy is not None
    found = taxonomy_warnings(raw, policy.taxonomy, await ctx.store.utm_values_in_use())
    notes = []
    for warning in found:
        note = warning.to_json()
        # Nothing is stored yet while the user types: say what saving will do.
        note["message"] = warning.message.replace(" was stored as ", " will be stored as ")
        notes.append(note)
    return JSONResponse({"warnings": notes}, headers={"cache-control": "no-store"})


# --- detail and archive ---------------------------------------------------------------------


async def link_detail(ctx: Ctx) -> Response:
    link = await links_service.get_link(ctx.store, _link_id(ctx))
    assert link.id is not None
    span, dates, errors = date_range(ctx)
    start, end = span.start.timestamp(), span.end.timestamp()
    rows = await ctx.store.rollups([link.id], start, end)
    series = stats.series(rows, span)
    labels = day_labels(span)
    chart = charts.time_series(
        labels,
        [
            charts.Line("clicks", "clicks", column(series, "clicks")),
            charts.Line("scans", "scans", column(series, "scans")),
            charts.Line("unique visitors", "uniques", column(series, "uniques")),
        ],
        title=f"Clicks, scans and unique visitors per day for {link.code}",
    )
    breakdowns = []
    for name, label in BREAKDOWN_LABELS.items():
        found = await ctx.store.breakdown(
            link.id, BREAKDOWN_NAMES[name], start, end, BREAKDOWN_ROWS
        )
        breakdowns.append(
            {
                "name": name,
                "label": label,
                "rows": found,
                "peak": max((h for _, h, _ in found), default=0),
            }
        )
    grid = stats.heatmap(rows)
    placed = await ctx.store.list_placements(link.id)
    event = await ctx.store.get_schedule(link.id)
    calls = await calls_service.by_link(
        ctx.store, [link.id, *(p.link_id for p in placed if p.link_id is not None)], start, end
    )
    return ctx.render(
        "link.html",
        link=link,
        short_url=links.short_url(link, ctx.settings.base_url),
        scan_url=links.short_url(link, ctx.settings.base_url, scan=True),
        final_url=forms.final_url(link),
        dates=dates,
        errors=errors,
        totals=stats.totals(rows),
        calls=calls_service.fields(calls.get(link.id)),
        numbers=[n for n in await ctx.store.list_numbers() if n.link_id == link.id],
        chart=chart,
        labels=labels,
        series=series,
        breakdowns=breakdowns,
        heatmap=charts.heatmap(grid, title=f"Human hits by weekday and hour (UTC) for {link.code}"),
        grid=grid,
        weekdays=stats.WEEKDAYS,
        ab=await links_service.variant_report(ctx.store, link.id),
        event=event,
        event_phase=event.phase(datetime.now(UTC)) if event else None,
        **await qr.designer(ctx, link, placed, calls),
    )


async def link_promote(ctx: Ctx) -> Response:
    index: int = ctx.request.path_params["variant"]
    before, after = await links_service.promote_variant(ctx.store, _link_id(ctx), index)
    children = await qr_service.follow_parent(ctx.store, after)
    ctx.runtime.cache.invalidate(before, after, *children)
    await audit.record(ctx.store, actor(ctx), "promote", "link", after.id, {"variant": index})
    message = f"Variant {index} is now the destination of {after.code}; the split has ended."
    return ctx.redirect(f"/dashboard/links/{after.id}", flash={"message": message})


async def link_archive(ctx: Ctx) -> Response:
    link = await links_service.get_link(ctx.store, _link_id(ctx))
    if not confirmed(ctx) and not link.archived:
        return confirm_page(
            ctx,
            title=f"Archive {link.code}?",
            message=f"Archive {links.short_url(link, ctx.settings.base_url)}? It then answers "
            "410 Gone (or goes to its fallback URL); its stats stay, and you can unarchive it "
            "later.",
            button=f"Archive {link.code}",
            back=f"/dashboard/links/{link.id}",
        )
    link = await links_service.archive_link(ctx.store, _link_id(ctx))
    ctx.runtime.cache.invalidate(link)
    await audit.record(ctx.store, actor(ctx), "archive", "link", link.id)
    message = f"Archived {link.code}: it now answers 410 Gone (or its fallback URL)."
    return ctx.redirect(f"/dashboard/links/{link.id}", flash={"message": message})


async def link_unarchive(ctx: Ctx) -> Response:
    link = await links_service.unarchive_link(ctx.store, _link_id(ctx))
    children = await qr_service.follow_parent(ctx.store, link)
    ctx.runtime.cache.invalidate(link, *children)
    await audit.record(ctx.store, actor(ctx), "unarchive", "link", link.id)
    message = f"Unarchived {link.code}: it answers again."
    return ctx.redirect(f"/dashboard/links/{link.id}", flash={"message": message})


routes = [
    Route("/dashboard/links", page(link_list, role=VIEWER), methods=["GET"]),
    Route("/dashboard/links/new", page(link_new, role=EDITOR), methods=["GET", "POST"]),
    Route("/dashboard/links/check", page(utm_check, role=VIEWER), methods=["GET"]),
    Route("/dashboard/links/{link_id:int}", page(link_detail, role=VIEWER), methods=["GET"]),
    Route(
        "/dashboard/links/{link_id:int}/edit", page(link_edit, role=EDITOR), methods=["GET", "POST"]
    ),
    Route(
        "/dashboard/links/{link_id:int}/archive", page(link_archive, role=EDITOR), methods=["POST"]
    ),
    Route(
        "/dashboard/links/{link_id:int}/unarchive",
        page(link_unarchive, role=EDITOR),
        methods=["POST"],
    ),
    Route(
        "/dashboard/links/{link_id:int}/variants/{variant:int}/promote",
        page(link_promote, role=EDITOR),
        methods=["POST"],
    ),
]
