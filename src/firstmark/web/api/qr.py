"""REST API for QR codes: rendering, the print check, logos, placements, ZIP export, event
mode and scan analytics. Handlers parse, call services/store, answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import placements, schedules
from firstmark.domain.audit import key_actor
from firstmark.domain.links import Link
from firstmark.domain.qr import FORMATS, OPTION_NAMES, parse_options
from firstmark.domain.qrrender import MAX_LOGO_BYTES, Rendered, read_logo
from firstmark.domain.schema import Anything, Arr, Int, Obj, OneOf, Param, Str
from firstmark.domain.urls import validate_destination
from firstmark.errors import InvalidBody, InvalidField, NotFound
from firstmark.services import audit
from firstmark.services import links as links_service
from firstmark.services import qr as qr_service
from firstmark.web.api.auth import api_key
from firstmark.web.api.contract import ITEMS, RANGE, Reply, op
from firstmark.web.http import (
    bounded,
    json_response,
    only_known,
    placements_zip,
    read_body,
    read_json,
)
from firstmark.web.runtime import runtime

CSV_TYPES = ("text/csv", "application/csv", "text/plain")
BATCH_JSON_LIMIT = 2 * 1024 * 1024


async def _link(request: Request) -> Link:
    return await links_service.get_link(runtime(request).store, request.path_params["link_id"])


async def _body(request: Request, limit: int, field: str) -> bytes:
    return await read_body(request, limit, _too_large(field, limit))


def _too_large(field: str, limit: int) -> Callable[[], InvalidField]:
    return lambda: InvalidField(
        field, f"the upload must be at most {limit // 1024} KB", code="too_large"
    )


def _image(rendered: Rendered, filename: str) -> Response:
    return Response(
        rendered.body,
        media_type=rendered.media_type,
        headers={
            "x-print-check": rendered.check.header(),
            "content-disposition": f'inline; filename="{filename}"',
            "cache-control": "private, max-age=0",
        },
    )


# --- rendering --------------------------------------------------------------------------------


async def link_qr(request: Request) -> Response:
    options = parse_options(request.query_params)
    link = await _link(request)
    rt = runtime(request)
    rendered = await qr_service.render_link(rt.store, rt.settings, link, options, rt.workers)
    return _image(rendered, f"{link.code}.{options.format}")


async def link_qr_check(request: Request) -> Response:
    options = parse_options(request.query_params)
    link = await _link(request)
    rt = runtime(request)
    rendered = await qr_service.render_link(rt.store, rt.settings, link, options, rt.workers)
    body = rendered.check.to_json()
    body["error_level"] = options.error_level
    body["pixels"] = rendered.pixels
    return json_response(body)


async def upload_logo(request: Request) -> Response:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        too_large = _too_large("logo", MAX_LOGO_BYTES)
        form_request = bounded(request, MAX_LOGO_BYTES + 16 * 1024, too_large)
        async with form_request.form(max_files=1, max_fields=5) as form:
            upload = form.get("file") or form.get("logo")
            if upload is None or isinstance(upload, str):
                raise InvalidField("logo", "send the image as the form field 'file'")
            data = await upload.read(MAX_LOGO_BYTES + 1)
    else:
        data = await _body(request, MAX_LOGO_BYTES, "logo")
    rt = runtime(request)
    logo = await rt.store.insert_logo(await rt.workers.process(read_logo, data))
    return json_response(
        {
            "id": logo.id,
            "media_type": logo.media_type,
            "sha256": logo.sha256,
            "width": logo.width or None,
            "height": logo.height or None,
            "bytes": len(logo.data),
        },
        201,
    )


# --- placements -------------------------------------------------------------------------------


async def create_placements(request: Request) -> Response:
    key = api_key(request)
    link = await _link(request)
    assert link.id is not None
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in CSV_TYPES:
        raw = await _body(request, placements.CSV_LIMIT, "file")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidField("file", "the CSV must be UTF-8") from None
        drafts = await runtime(request).workers.process(placements.parse_csv, text, link.id)
    else:
        data = await read_json(request, BATCH_JSON_LIMIT)
        items = data if isinstance(data, list) else [data]
        if not items or len(items) > placements.MAX_BATCH:
            raise InvalidBody(f"send 1 to {placements.MAX_BATCH} placements")
        drafts = []
        for index, item in enumerate(items):
            try:
                drafts.append(placements.parse(item, link.id))
            except InvalidField as exc:
                if not isinstance(data, list):
                    raise
                raise InvalidField(
                    f"[{index}].{exc.field}", f"item {index}: {exc.message}", code=exc.code
                ) from None
    rt = runtime(request)
    saved = await qr_service.create_placements(rt.store, link, drafts)
    # A code scanned before it existed may sit in the cache as unknown.
    rt.cache.invalidate(*(Link(destination="", code=p.code, domain=p.domain) for p in saved))
    await audit.record(
        rt.store, key_actor(key.prefix), "add_placements", "link", link.id, {"count": len(saved)}
    )
    return json_response({"items": [qr_service.placement_json(p, rt.settings) for p in saved]}, 201)


async def list_placements(request: Request) -> Response:
    link = await _link(request)
    assert link.id is not None
    rt = runtime(request)
    found = await rt.store.list_placements(link.id)
    return json_response({"items": [qr_service.placement_json(p, rt.settings) for p in found]})


async def get_placement(request: Request) -> Response:
    rt = runtime(request)
    placement, _ = await qr_service.get_placement(rt.store, request.path_params["pid"])
    return json_response(qr_service.placement_json(placement, rt.settings))


async def placement_qr(request: Request) -> Response:
    options = parse_options(request.query_params)
    rt = runtime(request)
    placement, link = await qr_service.get_placement(rt.store, request.path_params["pid"])
    rendered = await qr_service.render_link(rt.store, rt.settings, link, options, rt.workers)
    name = placements.file_name(placement, options.format, set())
    return _image(rendered, name)


async def export_placements(request: Request) -> Response:
    options = parse_options(request.query_params)
    link = await _link(request)
    rt = runtime(request)
    body, count = await qr_service.export_zip(rt.store, rt.settings, link, options, rt.workers)
    return placements_zip(body, count, link.code)


# --- event mode -------------------------------------------------------------------------------


async def _invalidate_family(request: Request, link: Link) -> None:
    rt = runtime(request)
    rt.cache.invalidate(*await qr_service.family(rt.store, link))


async def put_event(request: Request) -> Response:
    key = api_key(request)
    link = await _link(request)
    data = await read_json(request)
    rt = runtime(request)
    schedule = await qr_service.set_event(rt.store, rt.settings, link, data)
    await _invalidate_family(request, link)
    await audit.record(rt.store, key_actor(key.prefix), "set_event", "link", link.id)
    return json_response(schedules.to_json(schedule, datetime.now(UTC)))


async def get_event(request: Request) -> Response:
    schedule = await qr_service.get_event(runtime(request).store, await _link(request))
    return json_response(schedules.to_json(schedule, datetime.now(UTC)))


async def delete_event(request: Request) -> Response:
    key = api_key(request)
    link = await _link(request)
    assert link.id is not None
    if not await runtime(request).store.delete_schedule(link.id):
        raise NotFound(f"link {link.id} has no event")
    await _invalidate_family(request, link)
    await audit.record(
        runtime(request).store, key_actor(key.prefix), "delete_event", "link", link.id
    )
    return Response(status_code=204)


async def retire_event(request: Request) -> Response:
    key = api_key(request)
    link = await _link(request)
    rt = runtime(request)
    data: Any = {}
    if request.headers.get("content-length", "0") != "0":
        data = await read_json(request)
    if not isinstance(data, dict) or set(data) - {"fallback_url"}:
        raise InvalidField("body", "the body may only hold fallback_url")
    fallback = data.get("fallback_url")
    if fallback is not None:
        fallback = validate_destination(
            fallback,
            "fallback_url",
            allowed_hosts=rt.settings.allowed_destination_hosts,
        )
    schedule = await qr_service.retire_event(rt.store, link, fallback)
    await _invalidate_family(request, link)
    await audit.record(rt.store, key_actor(key.prefix), "retire_event", "link", link.id)
    return json_response(schedules.to_json(schedule, datetime.now(UTC)))


# --- scans ------------------------------------------------------------------------------------


def _range_params(request: Request) -> dict[str, str]:
    params = only_known(request.query_params, {"from", "to", "interval", "tz"})
    return params


async def link_scans(request: Request) -> Response:
    params = _range_params(request)
    link = await _link(request)
    assert link.id is not None
    rt = runtime(request)
    found = await rt.store.list_placements(link.id)
    ids = [link.id, *(p.link_id for p in found if p.link_id is not None)]
    report = await qr_service.scan_report(rt.store, rt.settings, ids, found, params)
    return json_response({"link_id": link.id, **report})


async def placement_scans(request: Request) -> Response:
    params = _range_params(request)
    rt = runtime(request)
    placement, link = await qr_service.get_placement(rt.store, request.path_params["pid"])
    assert link.id is not None
    report = await qr_service.scan_report(rt.store, rt.settings, [link.id], [placement], params)
    report.pop("placements")
    return json_response({"placement_id": link.id, "link_id": placement.parent_id, **report})


QR_OPTIONS = [
    Param("format", Str(enum=tuple(FORMATS))),
    Param("scale", Int(1, 100)),
    Param("border", Int(0, 20)),
    Param("dark", Str(max_length=7, description="#rrggbb")),
    Param("light", Str(max_length=7, description="#rrggbb")),
    Param("ec", Str(enum=("L", "M", "Q", "H", "l", "m", "q", "h"))),
    Param("logo", Int(1, 2**62), description="an uploaded logo's id"),
    Param("logo_size", Int(5, 40)),
    Param("print_size_mm", Str(max_length=32)),
    Param("scan_distance_mm", Str(max_length=32)),
]
assert {p.name for p in QR_OPTIONS} == OPTION_NAMES
IMAGE = Reply(
    200,
    "The QR code; X-Print-Check sums up the print check",
    media=tuple(dict.fromkeys(FORMATS.values())),
)
PLACEMENT = Obj(
    {
        "name": Str(max_length=200),
        "code": Str(max_length=128, nullable=True),
        "venue": Str(max_length=200, nullable=True),
        "medium": Str(max_length=64, nullable=True),
        "quantity": Anything("a whole number"),
        "print_cost": Anything("an amount"),
        "currency": Str(max_length=3, nullable=True),
        "starts_on": Str(max_length=32, nullable=True),
        "ends_on": Str(max_length=32, nullable=True),
        "utm_content": Str(max_length=200, nullable=True),
    },
    required=("name",),
)
EVENT = Obj({name: Str(max_length=4096, nullable=True) for name in sorted(schedules.FIELDS)})
SCANS = [*RANGE, Param("interval", Str(max_length=16)), Param("tz", Str(max_length=64))]
LINK = "/api/v1/links/{link_id:int}"
PID = "/api/v1/placements/{pid:int}"

routes = [
    op("GET", f"{LINK}/qr", link_qr, scope="links:read", summary="A link's QR code",
       query=QR_OPTIONS, replies=[IMAGE]),
    op("GET", f"{LINK}/qr/check", link_qr_check, scope="links:read",
       summary="The print check of a link's QR code", query=QR_OPTIONS),
    op("POST", "/api/v1/qr/logos", upload_logo, scope="links:write", summary="Upload a logo",
       uploads={
           "multipart/form-data": {"type": "object",
                                   "properties": {"file": {"contentMediaType": "image/png"}}},
           "image/png": {}, "image/svg+xml": {}, "image/jpeg": {},
       },
       replies=[Reply(201, "The logo")]),
    op("POST", f"{LINK}/placements", create_placements, scope="links:write",
       summary="Create placements (one, a list, or CSV rows)",
       body=OneOf((Arr(PLACEMENT, min_items=1, max_items=placements.MAX_BATCH), PLACEMENT)),
       limit=BATCH_JSON_LIMIT, uploads={"text/csv": {"type": "string"}},
       replies=[Reply(201, "The placements")]),
    op("GET", f"{LINK}/placements", list_placements, replies=[ITEMS], scope="links:read",
       summary="A link's placements"),
    op("GET", f"{LINK}/placements.zip", export_placements, scope="links:read",
       summary="Every placement's QR code in a ZIP", query=QR_OPTIONS,
       replies=[Reply(200, "The ZIP", media=("application/zip",))]),
    op("GET", PID, get_placement, scope="links:read", summary="One placement"),
    op("GET", f"{PID}/qr", placement_qr, scope="links:read", summary="A placement's QR code",
       query=QR_OPTIONS, replies=[IMAGE]),
    op("GET", f"{PID}/scans", placement_scans, scope="reports:read",
       summary="A placement's scans", query=SCANS),
    op("PUT", f"{LINK}/event", put_event, scope="links:write",
       summary="Set the link's event schedule", body=EVENT),
    op("GET", f"{LINK}/event", get_event, scope="links:read", summary="The event schedule"),
    op("DELETE", f"{LINK}/event", delete_event, scope="links:write",
       summary="Remove the event schedule", replies=[Reply(204, "Removed", media=())]),
    op("POST", f"{LINK}/event/retire", retire_event, scope="links:write",
       summary="Retire the event now",
       body=Obj({"fallback_url": Str(max_length=4096, nullable=True)}), body_required=False),
    op("GET", f"{LINK}/scans", link_scans, scope="reports:read",
       summary="A link's scans and its placements'", query=SCANS),
]  # fmt: skip
