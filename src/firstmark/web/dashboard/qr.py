"""The QR designer on the link page: options, live preview, print check, downloads, logo
upload, and placements (CSV batch, ZIP export).

The images come from the same code as the API's /api/v1/links/{id}/qr (services/qr.py), through
routes that check the dashboard session: the browser never holds an API key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from firstmark.domain import placements
from firstmark.domain.links import Link, short_url
from firstmark.domain.placements import Placement
from firstmark.domain.qr import ERROR_LEVELS, FORMATS, MIN_QUIET_ZONE, OPTION_NAMES, parse_options
from firstmark.domain.qrrender import MAX_LOGO_BYTES, read_logo
from firstmark.domain.roles import ANALYST, EDITOR, VIEWER
from firstmark.errors import Conflict, InvalidField
from firstmark.services import audit
from firstmark.services import calls as calls_service
from firstmark.services import links as links_service
from firstmark.services import qr as qr_service
from firstmark.store import CallTotal
from firstmark.web.dashboard.views import HEADERS, Ctx, actor, page
from firstmark.web.http import placements_zip

DEFAULTS = {
    "format": "svg",
    "scale": "10",
    "border": str(MIN_QUIET_ZONE),
    "dark": "#000000",
    "light": "#ffffff",
    "ec": "M",
    "logo": "",
    "logo_size": "20",
    "print_size_mm": "",
    "scan_distance_mm": "",
}
assert set(DEFAULTS) == OPTION_NAMES
# Row errors of a placements file carried to the page (in the flash cookie, which is small).
SHOWN_ROW_ERRORS = 15
FORMAT_LABELS = {"svg": "SVG", "png": "PNG", "pdf": "PDF", "eps": "EPS"}
assert set(FORMAT_LABELS) == set(FORMATS)


def _options_of(query: Mapping[str, str]) -> dict[str, str]:
    """The designer's options in a query string; the page's other parameters left out."""
    return {k: v for k, v in query.items() if k in OPTION_NAMES and v.strip()}


def _url(path: str, options: Mapping[str, str], **extra: str) -> str:
    query = {**options, **extra}
    return f"{path}?{urlencode(query)}" if query else path


async def designer(
    ctx: Ctx, link: Link, found: Sequence[Placement], calls: Mapping[int, CallTotal]
) -> dict[str, Any]:
    """What the link page shows of the designer, from the page's query string, and its
    placements with the calls to the numbers printed beside them (`calls` by link id)."""
    assert link.id is not None
    chosen = _options_of(ctx.request.query_params)
    values = {**DEFAULTS, **chosen}
    errors = dict((ctx.flash or {}).get("qr_errors") or {})
    check = None
    try:
        options = parse_options(chosen)
        rendered = await qr_service.render_link(
            ctx.store, ctx.settings, link, options, ctx.runtime.workers
        )
        check = rendered.check
    except InvalidField as exc:
        errors[exc.field or "format"] = exc.message
        chosen = {}  # the preview and downloads fall back to the defaults
    base = f"/dashboard/links/{link.id}/qr"
    preview = {k: v for k, v in chosen.items() if k != "format"}
    return {
        "qr_values": values,
        "qr_errors": errors,
        "qr_check": check,
        "qr_levels": ERROR_LEVELS,
        "qr_formats": FORMAT_LABELS,
        "qr_preview": _url(base, preview, format="png"),
        "qr_downloads": {
            fmt: _url(base, preview, format=fmt, download="1") for fmt in FORMAT_LABELS
        },
        "qr_zip": _url(f"/dashboard/links/{link.id}/placements.zip", chosen),
        "placements": [
            {
                "p": p,
                "short_url": short_url(
                    Link(destination="", code=p.code, domain=p.domain),
                    ctx.settings.base_url,
                    scan=True,
                ),
                **calls_service.fields(calls.get(p.link_id or 0)),
            }
            for p in found
        ],
        "placement_fields": placements.FIELDS,
        "placement_rows": (ctx.flash or {}).get("placement_rows") or [],
        "placement_more": (ctx.flash or {}).get("placement_more") or 0,
        "can_have_placements": not (link.kind == "qr" and link.placement is not None),
    }


async def _link(ctx: Ctx) -> Link:
    link_id: int = ctx.request.path_params["link_id"]
    return await links_service.get_link(ctx.store, link_id)


async def qr_image(ctx: Ctx) -> Response:
    """The link's QR code (the /q/ scan URL) in the chosen format; `download=1` to save it."""
    link = await _link(ctx)
    query = ctx.request.query_params
    options = parse_options({k: v for k, v in query.items() if k != "download"})
    rendered = await qr_service.render_link(
        ctx.store, ctx.settings, link, options, ctx.runtime.workers
    )
    how = "attachment" if query.get("download") else "inline"
    return Response(
        rendered.body,
        media_type=rendered.media_type,
        headers={
            **HEADERS,
            "x-print-check": rendered.check.header(),
            "content-disposition": f'{how}; filename="{link.code}.{options.format}"',
        },
    )


async def qr_check(ctx: Ctx) -> Response:
    """The print check as JSON for the live preview; a bad option as an error with its field."""
    link = await _link(ctx)
    try:
        options = parse_options(dict(ctx.request.query_params))
        rendered = await qr_service.render_link(
            ctx.store, ctx.settings, link, options, ctx.runtime.workers
        )
    except InvalidField as exc:
        return JSONResponse(
            {"error": {"code": exc.code, "message": exc.message, "field": exc.field}},
            status_code=422,
            headers={"cache-control": "no-store"},
        )
    body = rendered.check.to_json()
    body["error_level"] = options.error_level
    body["pixels"] = rendered.pixels
    return JSONResponse(body, headers={"cache-control": "no-store"})


def _back(link: Link, options: Mapping[str, str]) -> str:
    return _url(f"/dashboard/links/{link.id}", options) + "#qr"


async def upload_logo(ctx: Ctx) -> Response:
    link = await _link(ctx)
    options = {k: ctx.value(k) for k in OPTION_NAMES if ctx.value(k).strip()}
    try:
        upload = await ctx.file("logo_file", MAX_LOGO_BYTES)
        if upload is None:
            raise InvalidField("logo", "choose a PNG or SVG image to upload")
        logo = await ctx.store.insert_logo(await ctx.runtime.workers.process(read_logo, upload[1]))
    except InvalidField as exc:
        return ctx.redirect(_back(link, options), flash={"qr_errors": {"logo": exc.message}})
    # A logo needs level H; the print check says so, the designer sets it.
    options.update({"logo": str(logo.id), "ec": "H"})
    message = f"Logo {logo.id} uploaded and placed in the preview."
    return ctx.redirect(_back(link, options), flash={"message": message})


async def upload_placements(ctx: Ctx) -> Response:
    link = await _link(ctx)
    assert link.id is not None
    try:
        upload = await ctx.file("placements_file", placements.CSV_LIMIT)
        if upload is None:
            raise InvalidField("file", "choose a CSV file of placements")
        if len(upload[1]) > placements.CSV_LIMIT:
            raise InvalidField(
                "file", f"the CSV must be at most {placements.CSV_LIMIT // 2**20} MB"
            )
        try:
            text = upload[1].decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidField("file", "the CSV must be UTF-8 text") from None
        drafts, problems = placements.check_csv(text, link.id)
        if problems:
            flash: dict[str, Any] = {
                "qr_errors": {
                    "placements": f"{len(problems)} row(s) have errors. Nothing was added."
                },
                "placement_rows": [
                    [p.row, p.column, p.message] for p in problems[:SHOWN_ROW_ERRORS]
                ],
                "placement_more": max(0, len(problems) - SHOWN_ROW_ERRORS),
            }
            return ctx.redirect(f"/dashboard/links/{link.id}#placements", flash=flash)
        saved = await qr_service.create_placements(ctx.store, link, drafts)
    except (InvalidField, Conflict) as exc:
        message = exc.message.rstrip(".")
        flash = {"qr_errors": {"placements": f"{message}. Nothing was added."}}
        return ctx.redirect(f"/dashboard/links/{link.id}#placements", flash=flash)
    # A code scanned before it existed may sit in the cache as unknown.
    ctx.runtime.cache.invalidate(
        *(Link(destination="", code=p.code, domain=p.domain) for p in saved)
    )
    await audit.record(
        ctx.store, actor(ctx), "add_placements", "link", link.id, {"count": len(saved)}
    )
    message = f"Added {len(saved)} placement(s)."
    return ctx.redirect(f"/dashboard/links/{link.id}#placements", flash={"message": message})


async def export_zip(ctx: Ctx) -> Response:
    link = await _link(ctx)
    options = parse_options(dict(ctx.request.query_params))
    body, count = await qr_service.export_zip(
        ctx.store, ctx.settings, link, options, ctx.runtime.workers
    )
    return placements_zip(body, count, link.code, HEADERS)


routes = [
    Route("/dashboard/links/{link_id:int}/qr", page(qr_image, role=VIEWER), methods=["GET"]),
    Route("/dashboard/links/{link_id:int}/qr/check", page(qr_check, role=VIEWER), methods=["GET"]),
    Route(
        "/dashboard/links/{link_id:int}/logo",
        page(upload_logo, role=EDITOR, upload=MAX_LOGO_BYTES),
        methods=["POST"],
    ),
    Route(
        "/dashboard/links/{link_id:int}/placements",
        page(upload_placements, role=EDITOR, upload=placements.CSV_LIMIT),
        methods=["POST"],
    ),
    Route(
        "/dashboard/links/{link_id:int}/placements.zip",
        page(export_zip, role=ANALYST),
        methods=["GET"],
    ),
]
