"""REST API for links and their stats: one link's, and totals grouped by a link field."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from firstmark.domain import links, stats
from firstmark.domain.audit import key_actor
from firstmark.domain.dimensions import BREAKDOWN_NAMES, LINK_FILTERS, LINK_GROUPS
from firstmark.domain.links import Prepared
from firstmark.domain.schema import Anything, Arr, Bool, Int, Num, Obj, Param, Str
from firstmark.domain.times import iso
from firstmark.domain.utm import UTM_FIELDS
from firstmark.errors import InvalidField
from firstmark.services import audit
from firstmark.services import calls as calls_service
from firstmark.services import links as links_service
from firstmark.services import qr as qr_service
from firstmark.store import LinkQuery
from firstmark.web.api.auth import api_key
from firstmark.web.api.contract import ITEMS, PAGE, RANGE, Reply, op
from firstmark.web.http import json_response, only_known, query_int, read_json
from firstmark.web.runtime import runtime

BREAKDOWN_LIMIT = 20


def _link_id(request: Request) -> int:
    link_id: int = request.path_params["link_id"]
    return link_id


def _answer(request: Request, prepared: Prepared, status: int = 200) -> JSONResponse:
    body = links.to_json(prepared.link, runtime(request).settings.base_url)
    body["warnings"] = [w.to_json() for w in prepared.warnings]
    return json_response(body, status)


async def create_link(request: Request) -> Response:
    key = api_key(request)
    data = await read_json(request)
    rt = runtime(request)
    prepared = await links_service.create_link(
        rt.store, links_service.policy(rt.settings), data, rt.workers
    )
    rt.cache.invalidate(prepared.link)
    await audit.record(rt.store, key_actor(key.prefix), "create", "link", prepared.link.id)
    return _answer(request, prepared, 201)


async def list_links(request: Request) -> Response:
    params = only_known(request.query_params, {*LINK_FILTERS, "q", "archived", "page", "per_page"})
    archived_raw = params.get("archived", "false")
    archived: bool | None = {"true": True, "false": False, "all": None}.get(archived_raw, False)
    if archived_raw not in ("true", "false", "all"):
        raise InvalidField("archived", "archived must be true, false or all")
    page = query_int(request, "page", 1, 1, 1_000_000)
    per_page = query_int(request, "per_page", 50, 1, 500)
    rt = runtime(request)
    filters = {name: params[name] for name in LINK_FILTERS if params.get(name)}
    if "domain" in filters:
        host = links.normalise_host(filters["domain"])
        filters["domain"] = "" if host == rt.settings.default_host else host
    found, total = await rt.store.list_links(
        LinkQuery(
            filters=filters,
            search=params.get("q") or None,
            archived=archived,
            limit=per_page,
            offset=(page - 1) * per_page,
        )
    )
    base = rt.settings.base_url
    return json_response(
        {
            "items": [links.to_json(link, base) for link in found],
            "page": page,
            "per_page": per_page,
            "total": total,
        }
    )


async def get_link(request: Request) -> Response:
    rt = runtime(request)
    link = await links_service.get_link(rt.store, _link_id(request))
    return json_response(links.to_json(link, rt.settings.base_url))


async def update_link(request: Request) -> Response:
    key = api_key(request)
    data = await read_json(request)
    rt = runtime(request)
    before = await links_service.get_link(rt.store, _link_id(request))
    prepared = await links_service.update_link(
        rt.store, links_service.policy(rt.settings), before.id or 0, data, rt.workers
    )
    children = await qr_service.follow_parent(rt.store, prepared.link)
    rt.cache.invalidate(before, prepared.link, *children)
    await audit.record(
        rt.store, key_actor(key.prefix), "update", "link", before.id, audit.fields(data)
    )
    return _answer(request, prepared)


async def archive_link(request: Request) -> Response:
    key = api_key(request)
    rt = runtime(request)
    link = await links_service.archive_link(rt.store, _link_id(request))
    children = await qr_service.follow_parent(rt.store, link)
    rt.cache.invalidate(link, *children)
    await audit.record(rt.store, key_actor(key.prefix), "archive", "link", link.id)
    return Response(status_code=204)


async def link_stats(request: Request) -> Response:
    params = only_known(request.query_params, {"from", "to", "interval"})
    store = runtime(request).store
    link = await links_service.get_link(store, _link_id(request))
    assert link.id is not None
    span = stats.parse_range(params, datetime.now(UTC))
    start, end = span.start.timestamp(), span.end.timestamp()
    rows = await store.rollups([link.id], start, end)
    breakdowns: dict[str, Any] = {}
    for name, column in BREAKDOWN_NAMES.items():
        found = await store.breakdown(link.id, column, start, end, BREAKDOWN_LIMIT)
        breakdowns[name] = [{"value": v, "hits": h, "uniques": u} for v, h, u in found]
    calls = await calls_service.by_link(store, [link.id], start, end)
    return json_response(
        {
            "link_id": link.id,
            "from": iso(span.start),
            "to": iso(span.end),
            "interval": span.interval,
            "totals": {**stats.totals(rows), **calls_service.fields(calls.get(link.id))},
            "series": stats.series(rows, span),
            "breakdowns": breakdowns,
        }
    )


async def group_stats(request: Request) -> Response:
    params = only_known(request.query_params, {"from", "to", "group_by"})
    group_by = params.get("group_by", "")
    if group_by not in LINK_GROUPS:
        raise InvalidField("group_by", f"group_by must be one of {', '.join(LINK_GROUPS)}")
    span = stats.parse_range({**params, "interval": "day"}, datetime.now(UTC))
    start, end = span.start.timestamp(), span.end.timestamp()
    store = runtime(request).store
    rows = await store.group_totals(group_by, start, end)
    calls = await calls_service.by_group(store, group_by, start, end)
    body: dict[str, Any] = {
        "group_by": group_by,
        "from": iso(span.start),
        "to": iso(span.end),
        "rows": [
            {
                "value": r.value,
                "links": r.links,
                "hits": r.hits,
                "humans": r.hits - r.bot_hits,
                "bots": r.bot_hits,
                "uniques": r.uniques,
                "clicks": r.clicks,
                "scans": r.scans,
                **(
                    calls_service.empty()
                    if calls is None
                    else calls_service.fields(calls.get(r.value))
                ),
            }
            for r in rows
        ],
    }
    if calls is None:
        body["note"] = calls_service.NOT_BY_TAG
    else:  # groups only calls reached (a campaign on a printed number alone)
        seen = {r.value for r in rows}
        body["rows"] += [
            {"value": value, "links": 0, "hits": 0, "humans": 0, "bots": 0, "uniques": 0,
             "clicks": 0, "scans": 0, **calls_service.fields(total)}
            for value, total in calls.items()
            if value not in seen
        ]  # fmt: skip
    return json_response(body)


TEXT = Str(max_length=2048, nullable=True)
LINK_BODY = Obj(
    {
        "destination": Str(max_length=4096, description="http(s) URL the link redirects to"),
        "code": Str(max_length=128, nullable=True),
        "domain": Str(max_length=255, nullable=True),
        **{name: TEXT for name in UTM_FIELDS},
        "campaign": TEXT,
        "placement": TEXT,
        "tags": Arr(Str(max_length=64), max_items=50, nullable=True),
        "kind": Str(enum=("link", "qr")),
        "redirect_status": Int(301, 308),
        "forward_query": Bool(),
        "click_token": Bool(),
        "noindex": Bool(),
        "valid_from": Str(max_length=64, format="date-time", nullable=True),
        "expires_at": Str(max_length=64, format="date-time", nullable=True),
        "fallback_url": Str(max_length=4096, nullable=True),
        "max_hits": Int(1, nullable=True),
        "password": Str(max_length=1024, nullable=True),
        "rules": Anything("device/country/language targets (see docs/api.md, Rules)"),
        "variants": Arr(
            Obj({"url": Str(max_length=4096), "weight": Num(0, 1_000_000)}, required=("url",)),
            max_items=5,
            nullable=True,
            description="A/B split: 2 to 5 {url, weight}; the first is the control and the "
            "destination; null or [] ends the split (docs/links.md)",
        ),
        **{name: Anything("read-only; ignored") for name in links.READ_ONLY},
        "archived": Bool(
            description="in a PATCH, true archives the link and false restores "
            "it; read-only on create"
        ),
    }
)
NEW_LINK = replace(LINK_BODY, required=("destination",))
LINK_QUERY = (
    *(Param(name, Str(max_length=255)) for name in LINK_FILTERS),
    Param("q", Str(max_length=255), description="search in code, destination and campaign"),
    Param("archived", Str(enum=("true", "false", "all"))),
    *PAGE,
)
STATS_QUERY = (*RANGE, Param("interval", Str(max_length=16), description="hour or day"))
GROUP_QUERY = (*RANGE, Param("group_by", Str(enum=LINK_GROUPS), required=True))
ID = "/api/v1/links/{link_id:int}"

routes = [
    op("POST", "/api/v1/links", create_link, scope="links:write", summary="Create a link",
       body=NEW_LINK, replies=[Reply(201, "The link, with UTM warnings")]),
    op("GET", "/api/v1/links", list_links,
       replies=[ITEMS], scope="links:read", summary="List links",
       query=LINK_QUERY),
    op("GET", ID, get_link, scope="links:read", summary="One link"),
    op("PATCH", ID, update_link, scope="links:write", summary="Change a link", body=LINK_BODY),
    op("DELETE", ID, archive_link, scope="links:write", summary="Archive a link",
       replies=[Reply(204, "Archived", media=())]),
    op("GET", f"{ID}/stats", link_stats, scope="reports:read", summary="A link's stats",
       query=STATS_QUERY),
    op("GET", "/api/v1/stats", group_stats, scope="reports:read",
       summary="Totals grouped by a link field", query=GROUP_QUERY),
]  # fmt: skip
