"""REST API for conversions: recorded by a backend (one or a batch), listed, read back."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firstmark.config import Settings
from firstmark.domain import conversions, privacymode
from firstmark.domain.conversions import Conversion, ConversionInput
from firstmark.domain.links import short_url
from firstmark.domain.schema import Anything, Arr, Bool, Obj, OneOf, Param, Str
from firstmark.errors import InvalidField, NotFound
from firstmark.services import conversions as conversions_service
from firstmark.web.api.contract import ITEMS, PAGE, Reply, op
from firstmark.web.http import json_response, only_known, query_int, read_json
from firstmark.web.runtime import runtime

BATCH_BODY_LIMIT = 4 * 1024 * 1024


def _in_mode(settings: Settings, given: ConversionInput) -> ConversionInput:
    """Exempt mode keeps a backend's conversion without anything that links its buyer."""
    return privacymode.exempt_conversion(given) if settings.privacy_mode == "exempt" else given


async def create_conversions(request: Request) -> Response:
    """One conversion (201, or 200 with duplicate: true), or {"conversions": [...]} (200)."""
    data = await read_json(request, limit=BATCH_BODY_LIMIT)
    rt = runtime(request)
    if isinstance(data, dict) and "conversions" in data:
        checked = [_in_mode(rt.settings, c) for c in conversions.parse_batch(data)]
        results = await conversions_service.record(
            rt.store, rt.signer, checked, batch=True, client_data=rt.client_sealer
        )
        return json_response(
            {
                "results": [
                    {"id": c.id, "event_id": c.event_id, "duplicate": dup} for c, dup in results
                ],
                "stored": sum(not dup for _, dup in results),
                "duplicates": sum(dup for _, dup in results),
            }
        )
    one = _in_mode(rt.settings, conversions.parse(data))
    [(saved, duplicate)] = await conversions_service.record(
        rt.store, rt.signer, [one], client_data=rt.client_sealer
    )
    body = await _conversion_json(request, saved)
    body["duplicate"] = duplicate
    return json_response(body, 200 if duplicate else 201)


async def _conversion_json(request: Request, conv: Conversion) -> dict[str, Any]:
    link: dict[str, Any] = {}
    if conv.link_id is not None:
        rt = runtime(request)
        found = await rt.store.get_link(conv.link_id)
        if found is not None:
            link = {
                "link_code": found.code,
                "short_url": short_url(found, rt.settings.base_url),
                "placement": found.placement,
                "campaign": found.campaign,
                "link_utm_campaign": found.utm_campaign,
            }
    return conversions.to_json(conv, link)


async def list_conversions(request: Request) -> Response:
    params = only_known(request.query_params, {"goal", "page", "per_page"})
    page = query_int(request, "page", 1, 1, 1_000_000)
    per_page = query_int(request, "per_page", 50, 1, 500)
    store = runtime(request).store
    goal_id = None
    if params.get("goal"):
        by_name = {g.name: g.id for g in await store.list_goals()}
        if params["goal"] not in by_name:
            raise InvalidField("goal", f"no goal named {params['goal']!r}", code="unknown_goal")
        goal_id = by_name[params["goal"]]
    found, total = await store.list_conversions(goal_id, per_page, (page - 1) * per_page)
    return json_response(
        {
            "items": [await _conversion_json(request, c) for c in found],
            "page": page,
            "per_page": per_page,
            "total": total,
        }
    )


async def get_conversion(request: Request) -> Response:
    conv_id: int = request.path_params["conversion_id"]
    conv = await runtime(request).store.get_conversion(conv_id)
    if conv is None:
        raise NotFound(f"no conversion with id {conv_id}")
    return json_response(await _conversion_json(request, conv))


TEXT = Str(max_length=1024, nullable=True)
ONE = Obj(
    {
        "event_id": Str(max_length=128, description="idempotency key"),
        "goal": Str(max_length=64),
        "ts": Anything("ISO 8601 with an offset, or Unix epoch seconds; now when absent"),
        "value": Anything("amount: a number or a decimal string"),
        "currency": Str(max_length=3, nullable=True),
        "order_id": TEXT,
        "click_token": TEXT,
        "visitor_id": TEXT,
        "consent": Anything("consent given by the visitor (see docs/api.md, Conversions)"),
        "user_data": Anything("e-mail, phone, … hashed before storing"),
        "client_ip": TEXT,
        "user_agent": TEXT,
        "gpc": Bool(),
        "click_ids": Anything("gclid, fbclid, … by name"),
        "event_source_url": TEXT,
        "customer_id": Str(
            max_length=256,
            nullable=True,
            description="your own customer id; SHA-256 hashed on receipt",
        ),
    },
    required=("event_id", "goal"),
)
BATCH = Obj({"conversions": Arr(ONE, min_items=1, max_items=conversions.MAX_BATCH)},
            required=("conversions",))  # fmt: skip

routes = [
    op("POST", "/api/v1/conversions", create_conversions, scope="events:write",
       summary="Record a conversion, or a batch", body=OneOf((BATCH, ONE)),
       limit=BATCH_BODY_LIMIT,
       replies=[Reply(201, "Stored"), Reply(200, "A duplicate, or the batch's results")]),
    op("GET", "/api/v1/conversions", list_conversions, replies=[ITEMS], scope="reports:read",
       summary="List conversions", query=(Param("goal", Str(max_length=64)), *PAGE)),
    op("GET", "/api/v1/conversions/{conversion_id:int}", get_conversion,
       scope="reports:read", summary="One conversion"),
]  # fmt: skip
