"""Reading request bodies and writing JSON answers, strictly."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message

from firstmark.domain.schema import check_json
from firstmark.errors import BodyTooLarge, InvalidBody, InvalidField, UnknownParameter

BODY_LIMIT = 64 * 1024
PARSED = "firstmark.json"  # scope key: the body once read and checked (web/api/contract.py)


def bounded(
    request: Request, limit: int, too_large: Callable[[], Exception] | None = None
) -> Request:
    """The request, with a body that may not pass `limit` bytes: a declared Content-Length
    over it is refused at once, and the bytes are counted as they stream, so a chunked body
    (no Content-Length) is stopped at the limit, never read or spooled to disk in full.
    Every body read goes through here: JSON, CSV, uploads and forms (multipart included)."""
    error = too_large or (lambda: BodyTooLarge(f"the body is larger than {_size(limit)}"))
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise error()
    receive = request.receive
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise error()
        return message

    return Request(request.scope, counted)


async def read_body(
    request: Request, limit: int, too_large: Callable[[], Exception] | None = None
) -> bytes:
    """The whole body, at most `limit` bytes (see `bounded`)."""
    body = bytearray()
    async for chunk in bounded(request, limit, too_large).stream():
        body += chunk
    return bytes(body)


def _size(limit: int) -> str:
    return f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 1024} KB"


async def read_json(request: Request, limit: int = BODY_LIMIT) -> Any:
    """The JSON body, refusing anything over `limit` bytes before reading it all, and any
    value no engine can store (NUL, invalid text, integers beyond 64 bits; see check_json)."""
    if PARSED in request.scope:
        return request.scope[PARSED]
    body = await read_body(request, limit)
    if not body.strip():
        raise InvalidBody("the body is empty; send a JSON object")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidBody(f"the body is not valid JSON: {exc}") from None
    except RecursionError:  # thousands of nested brackets
        raise InvalidBody("the body is nested too deeply") from None
    check_json(data)
    request.scope[PARSED] = data
    return data


def json_response(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def placements_zip(
    body: bytes, count: int, code: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A link's placements as a ZIP download (the API's and the dashboard's), with their count."""
    return Response(
        body,
        media_type="application/zip",
        headers={
            **(headers or {}),
            "content-disposition": f'attachment; filename="{code}-placements.zip"',
            "x-placements": str(count),
        },
    )


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidField(name, f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def only_known(params: Mapping[str, str], allowed: Collection[str]) -> dict[str, str]:
    """The parameters as a dict; an unknown one is refused by name (a typo must not be
    silently ignored)."""
    unknown = set(params) - set(allowed)
    if unknown:
        raise UnknownParameter(sorted(unknown)[0])
    return dict(params)
