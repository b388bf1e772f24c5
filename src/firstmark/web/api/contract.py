"""Each /api/v1 route declared once: the Starlette route and its OpenAPI operation together.

    op("GET", "/api/v1/links/{link_id:int}", get_link, scope="links:read", summary="One link")

The returned `ApiRoute` checks, before the handler runs: the API key and its scope, that every
query parameter is declared (an unknown one is refused with 400 naming it) and fits its
schema, that integer path ids fit 64 bits, and that a declared JSON body parses and fits its
schema (domain/schema.py). The handler then reads the checked body with `read_json`.
`document()` turns the same declarations into the OpenAPI 3.1 document, so the two cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from firstmark.domain.schema import INT64_MAX, Int, Param, Schema, Str
from firstmark.errors import InvalidField, UnknownParameter
from firstmark.web.api.auth import require
from firstmark.web.http import BODY_LIMIT, read_json

Handler = Callable[[Request], Awaitable[Response]]
JSON = "application/json"
ERROR_REF = "#/components/schemas/Error"
PATH_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")
ERROR_STATUSES = {
    400: "Bad request: an unknown query parameter, or a body that is not JSON",
    401: "No API key, or not a valid one",
    403: "The API key lacks the scope",
    404: "Not found",
    409: "Conflict with a stored row",
    413: "The body is too large",
    422: "A field is missing, of the wrong type or refused by a rule; `field` names it",
    429: "Too many requests",
    503: "The database is unavailable",
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string", "description": "the field at fault, when one is"},
                "rows": {"type": "array", "description": "row errors of an uploaded file"},
            },
        }
    },
}


@dataclass(frozen=True, slots=True)
class Reply:
    """A documented answer: its status, what it means, and its media types."""

    status: int
    description: str = "OK"
    media: Sequence[str] = (JSON,)
    schema: Mapping[str, Any] | None = None

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.description}
        if self.media:
            schema = dict(self.schema or ({"type": "object"} if self.media == (JSON,) else {}))
            out["content"] = {m: {"schema": schema} for m in self.media}
        return out


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    handler: Handler
    scope: str | None
    summary: str
    query: Sequence[Param]
    body: Schema | None
    limit: int
    body_required: bool
    uploads: Mapping[str, Mapping[str, Any]]
    replies: Sequence[Reply]
    path_params: Sequence[Param] = field(default=())

    @property
    def openapi_path(self) -> str:
        return PATH_PARAM.sub(r"{\1}", self.path)

    @property
    def tag(self) -> str:
        return self.path.removeprefix("/api/v1/").split("/")[0].split(".")[0]

    async def endpoint(self, request: Request) -> Response:
        """Check the request against the declaration, then run the handler."""
        if self.scope is not None:
            request.state.api_key = await require(request, self.scope)
        self._check_params(request)
        if self.body is not None and self._has_json(request):
            data = await read_json(request, limit=self.limit)
            self.body.check(data, "")
        return await self.handler(request)

    def _has_json(self, request: Request) -> bool:
        """Whether the body is for the JSON schema (not an upload, nor an optional absent one)."""
        if not self.body_required and request.headers.get("content-length", "0") == "0":
            return "transfer-encoding" in request.headers
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        return not self.uploads or kind == JSON or kind.endswith("+json")

    def _check_params(self, request: Request) -> None:
        declared = {p.name: p for p in self.query}
        for name in request.query_params:
            if name not in declared:
                raise UnknownParameter(name)
        for name, raw in request.query_params.multi_items():
            declared[name].check_text(raw)
        for param in self.path_params:
            value = request.path_params.get(param.name)
            if isinstance(value, int) and value > INT64_MAX:
                raise InvalidField(param.name, f"{param.name} is out of range")
            if isinstance(value, str):
                param.check_text(value)

    def openapi(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "operationId": self.handler.__name__,
            "summary": self.summary,
            "tags": [self.tag],
        }
        params = [p.json_schema("path") for p in self.path_params]
        params += [p.json_schema("query") for p in self.query]
        if params:
            out["parameters"] = params
        content: dict[str, Any] = {}
        if self.body is not None:
            content[JSON] = {"schema": self.body.json_schema()}
        content.update({media: {"schema": dict(s)} for media, s in self.uploads.items()})
        if content:
            out["requestBody"] = {"required": self.body_required, "content": content}
        if self.scope is None:
            out["security"] = []
        else:
            out["description"] = f"Needs an API key with the `{self.scope}` scope (or admin)."
        responses = {str(r.status): r.json_schema() for r in self.replies}
        for status, why in ERROR_STATUSES.items():
            responses.setdefault(
                str(status),
                {
                    "description": why,
                    "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            )
        out["responses"] = responses
        return out


class ApiRoute(Route):
    """A Starlette route that carries its declaration (see `op`)."""

    operation: Operation


def _path_params(path: str) -> list[Param]:
    out = []
    for name, convertor in PATH_PARAM.findall(path):
        # The example (1) lets a fuzzer reach the first row of each kind, not only 404s.
        if convertor == "int":
            out.append(Param(name, Int(0, INT64_MAX), required=True, example=1))
        else:
            out.append(Param(name, Str(max_length=200), required=True))
    return out


def op(
    method: str,
    path: str,
    handler: Handler,
    *,
    scope: str | None,
    summary: str = "",
    query: Iterable[Param] = (),
    body: Schema | None = None,
    limit: int = BODY_LIMIT,
    body_required: bool = True,
    uploads: Mapping[str, Mapping[str, Any]] | None = None,
    replies: Sequence[Reply] = (Reply(200),),
) -> ApiRoute:
    """Declare one API operation; `scope=None` makes it public. `body` is the JSON body's
    schema; `uploads` maps other accepted media types to their OpenAPI schema."""
    operation = Operation(
        method=method,
        path=path,
        handler=handler,
        scope=scope,
        summary=summary or (handler.__doc__ or handler.__name__).strip().split("\n")[0],
        query=tuple(query),
        body=body,
        limit=limit,
        body_required=body_required,
        uploads=dict(uploads or {}),
        replies=tuple(replies),
        path_params=_path_params(path),
    )
    route = ApiRoute(path, operation.endpoint, methods=[method], name=handler.__name__)
    route.operation = operation
    return route


class Undeclared(RuntimeError):
    """An /api/v1 route mounted without `op`: it would be missing from the document."""


def operations(routes: Iterable[BaseRoute]) -> list[Operation]:
    found = []
    for route in routes:
        if isinstance(route, ApiRoute):
            found.append(route.operation)
        elif isinstance(route, Route) and route.path.startswith("/api/"):
            raise Undeclared(f"{route.path} is not declared with contract.op")
    return found


def document(routes: Iterable[BaseRoute], version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every declared operation among `routes`."""
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations(routes):
        paths.setdefault(operation.openapi_path, {})[operation.method.lower()] = operation.openapi()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "firstmark API",
            "version": version,
            "description": (
                "Links, QR placements, conversions, reports and destinations of a firstmark "
                "server. Send an API key as `Authorization: Bearer fm_…`. Every error is "
                '`{"error": {"code", "message", "field"}}`.'
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA},
        },
    }


# A list answer: `items`, and for paged lists `page`, `per_page` and `total` too.
ITEMS = Reply(
    200,
    "The items",
    schema={
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0},
        },
    },
)
# Parameters many routes share.
PAGE = (
    Param("page", Int(1, 1_000_000), description="page number, from 1"),
    Param("per_page", Int(1, 500), description="items per page (50 by default)"),
)
RANGE = (
    Param("from", Str(max_length=64), description="ISO 8601 date or date-time (inclusive)"),
    Param("to", Str(max_length=64), description="ISO 8601 date or date-time (exclusive)"),
)
