"""REST API for privacy: erase and export what links to a person, consent by state."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain.audit import key_actor
from firstmark.domain.privacy import KINDS
from firstmark.domain.schema import Int, Obj, Param, Str
from firstmark.services import privacy as privacy_service
from firstmark.web.api.auth import api_key
from firstmark.web.api.contract import RANGE, Reply, op
from firstmark.web.http import json_response, only_known, read_json
from firstmark.web.runtime import runtime

BODY_LIMIT = 4 * 1024


async def erase(request: Request) -> Response:
    key = api_key(request)
    rt = runtime(request)
    answer = await privacy_service.erase(
        rt.store, await read_json(request, limit=BODY_LIMIT), rt.caller_key, key_actor(key.prefix)
    )
    return json_response(answer)


async def export(request: Request) -> Response:
    key = api_key(request)
    rt = runtime(request)
    answer = await privacy_service.export(
        rt.store, await read_json(request, limit=BODY_LIMIT), rt.caller_key, key_actor(key.prefix)
    )
    return json_response(answer)


async def consent(request: Request) -> Response:
    rt = runtime(request)
    params = only_known(request.query_params, privacy_service.CONSENT_PARAMS)
    return json_response(await privacy_service.consent(rt.store, rt.settings, params))


IDENTIFIER = Obj(
    {"kind": Str(enum=KINDS), "value": Str(max_length=1024)},
    required=("kind", "value"),
)
CONSENT_QUERY = (*RANGE, Param("site", Int(1)))

routes = [
    op("POST", "/api/v1/privacy/erase", erase, scope="admin", body=IDENTIFIER, limit=BODY_LIMIT,
       summary="Erase or anonymise every row linked to one identifier; counts per table",
       replies=[Reply(200, "Rows treated, per table")]),
    op("POST", "/api/v1/privacy/export", export, scope="admin", body=IDENTIFIER, limit=BODY_LIMIT,
       summary="Everything linked to one identifier, as a JSON document",
       replies=[Reply(200, "The linked rows, per table")]),
    op("GET", "/api/v1/privacy/consent", consent, scope="reports:read", query=CONSENT_QUERY,
       summary="Visits and conversions by consent state, with modelled totals",
       replies=[Reply(200, "Shares by consent state")]),
]  # fmt: skip
