"""REST API for ad costs: import an export file, read the totals."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import stats
from firstmark.domain.audit import key_actor
from firstmark.domain.costs import MAX_FILE_BYTES
from firstmark.domain.dimensions import COST_GROUPS
from firstmark.domain.schema import Param, Str
from firstmark.domain.times import iso
from firstmark.errors import InvalidField
from firstmark.services import costs as costs_service
from firstmark.store import epoch_day
from firstmark.web.api.auth import api_key
from firstmark.web.api.contract import RANGE, Reply, op
from firstmark.web.api.uploads import CSV_UPLOAD, read_csv
from firstmark.web.http import json_response, only_known
from firstmark.web.runtime import runtime

IMPORT_OPTIONS = ("preset", "source", "medium", "currency")


async def import_costs(request: Request) -> Response:
    key = api_key(request)
    options = dict(request.query_params)
    data = await read_csv(request, options, MAX_FILE_BYTES)
    only_known(options, IMPORT_OPTIONS)
    summary = await costs_service.import_file(
        runtime(request).store,
        data,
        options.get("preset") or "auto",
        source=options.get("source") or None,
        medium=options.get("medium") or None,
        currency=options.get("currency") or None,
        workers=runtime(request).workers,
        actor=key_actor(key.prefix),
    )
    return json_response(summary, 201)


async def cost_totals(request: Request) -> Response:
    params = only_known(request.query_params, {"from", "to", "group_by"})
    group_by = [g for g in params.get("group_by", "source,medium,campaign").split(",") if g]
    for name in group_by:
        if name not in COST_GROUPS:
            raise InvalidField("group_by", f"group_by takes {', '.join(COST_GROUPS)}")
    span = stats.parse_range({**params, "interval": "day"}, datetime.now(UTC))
    first = epoch_day(span.start.date())
    last = epoch_day(span.end.date()) - 1  # `end` is exclusive, at midnight
    rows = await runtime(request).store.cost_totals(first, last, group_by)
    return json_response(
        {
            "from": iso(span.start),
            "to": iso(span.end),
            "group_by": group_by,
            "rows": [
                {
                    **dict(zip(group_by, row.key, strict=True)),
                    "currency": row.currency,
                    "spend": str(row.spend),
                    "impressions": row.impressions,
                    "clicks": row.clicks,
                }
                for row in rows
            ],
        }
    )


OPTIONS = [
    Param("preset", Str(max_length=32), description="the export's format; auto by default"),
    Param("source", Str(max_length=255)),
    Param("medium", Str(max_length=255)),
    Param("currency", Str(max_length=3)),
]

routes = [
    op("POST", "/api/v1/costs/import", import_costs, scope="costs:write",
       summary="Import an ad platform's cost export", query=OPTIONS, uploads=CSV_UPLOAD,
       replies=[Reply(201, "What was imported")]),
    op("GET", "/api/v1/costs", cost_totals, scope="reports:read", summary="Cost totals",
       query=(*RANGE, Param("group_by", Str(max_length=255), description="comma-separated"))),
]  # fmt: skip
