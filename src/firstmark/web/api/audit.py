"""REST API for the audit log: GET /api/v1/audit, filtered and paginated, newest first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from firstmark.services import audit as audit_service
from firstmark.web.api.auth import require
from firstmark.web.http import json_response, only_known
from firstmark.web.runtime import runtime

PARAMS = ("actor", "action", "object_kind", "object_id", "from", "to", "limit", "offset")


async def list_audit(request: Request) -> Response:
    await require(request, "admin")
    params = only_known(request.query_params, PARAMS)
    return json_response(await audit_service.listing(runtime(request).store, params))


routes = [Route("/api/v1/audit", list_audit, methods=["GET"])]
