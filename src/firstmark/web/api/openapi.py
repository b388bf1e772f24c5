"""The API's own description: GET /api/v1/openapi.json and the reference page /api/v1/docs.

The document is built from the routes the app mounts (each declared with `contract.op`), once
per app, so it always lists exactly what the server answers. The page is a small renderer in
static/apidocs.js that reads the document; nothing is loaded from another origin.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from firstmark import __version__
from firstmark.web.api.contract import Reply, document, op

PAGE_HEADERS = {
    "cache-control": "no-cache",
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>firstmark API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/apidocs.css">
<script defer src="/static/apidocs.js" data-spec="/api/v1/openapi.json"></script>
</head>
<body>
<main id="apidocs"><h1>firstmark API reference</h1><p>Loading
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>…</p></main>
</body>
</html>
"""


def _document(request: Request) -> bytes:
    """The document as JSON bytes, built once per app from its mounted routes."""
    state = request.app.state
    cached: bytes | None = getattr(state, "openapi_json", None)
    if cached is None:
        spec: dict[str, Any] = document(request.app.routes, __version__)
        cached = json.dumps(spec, separators=(",", ":")).encode()
        state.openapi_json = cached
    return cached


async def openapi_json(request: Request) -> Response:
    """The OpenAPI 3.1 document of this API."""
    return Response(_document(request), media_type="application/json")


async def docs_page(request: Request) -> Response:
    """A readable reference of the API, rendered from the document."""
    return HTMLResponse(PAGE, headers=PAGE_HEADERS)


routes = [
    op("GET", "/api/v1/openapi.json", openapi_json, scope=None),
    op("GET", "/api/v1/docs", docs_page, scope=None,
       replies=[Reply(200, "The reference page", media=("text/html",))]),
]  # fmt: skip
