"""REST API for privacy: erase and export what links to a person, consent by state."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain.audit import key_actor
from firstmark.services import privacy as privacy_service
from firstmark.web.api.auth import require
from firstmark.web.http import json_response, only_known, read_json
from firstmark.web.runtime import runtime

BODY_LIMIT = 4 * 1024


async def erase(request: Request) -> Response:
    key = await require(request, "admin")
    rt = runtime(request)
    answer = await privacy_service.erase(
        rt.store, await read_json(request, limit=BODY_LIMIT), rt.caller_key, key_actor(key.prefix)
    )
    return json_response(answer)


async def export(request: Request) -> Response:
    key = await require(request, "admin")
    rt = runtime(request)
    answer = await privacy_service.export(
        rt.store, await read_json(request, limit=BODY_LIMIT), rt.caller_key, key_actor(key.prefix)
    )
    return json_response(answer)


async def consent(request: Request) -> Response:
    await require(request, "reports:read")
    rt = runtime(request)
    params = only_known(request.query_params, privacy_service.CONSENT_PARAMS)
    return json_response(await privacy_service.consent(rt.store, rt.settings, params))


routes = [
    Route("/api/v1/privacy/erase", erase, methods=["POST"]),
    Route("/api/v1/privacy/export", export, methods=["POST"]),
    Route("/api/v1/privacy/consent", consent, methods=["GET"]),
]
