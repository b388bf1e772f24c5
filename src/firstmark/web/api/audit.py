"""REST API for the audit log: GET /api/v1/audit, filtered and paginated, newest first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain.audit import OBJECT_KINDS, PAGE_LIMIT
from firstmark.domain.schema import Int, Param, Str
from firstmark.services import audit as audit_service
from firstmark.web.api.contract import ITEMS, op
from firstmark.web.http import json_response, only_known
from firstmark.web.runtime import runtime

PARAMS = ("actor", "action", "object_kind", "object_id", "from", "to", "limit", "offset")


async def list_audit(request: Request) -> Response:
    params = only_known(request.query_params, PARAMS)
    return json_response(await audit_service.listing(runtime(request).store, params))


DAY = r"\d{4}-\d{2}-\d{2}"
QUERY = (
    Param("actor", Str(max_length=128), description="key:PREFIX, user:NAME or cli"),
    Param("action", Str(max_length=128)),
    Param("object_kind", Str(enum=OBJECT_KINDS)),
    Param("object_id", Str(max_length=128)),
    Param("from", Str(max_length=10, pattern=DAY), description="YYYY-MM-DD"),
    Param("to", Str(max_length=10, pattern=DAY), description="YYYY-MM-DD, inclusive"),
    Param("limit", Int(1, PAGE_LIMIT)),
    Param("offset", Int(0, 10**9)),
)

routes = [
    op("GET", "/api/v1/audit", list_audit, scope="admin", query=QUERY, replies=[ITEMS],
       summary="Administrative actions, newest first"),
]  # fmt: skip
