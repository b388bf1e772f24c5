"""Baseline ASGI apps for bench/redirect.py, served exactly the way `firstmark serve` is.

Usage (from the repository root):

    .venv/bin/python bench/apps.py starlette|raw|ingest PORT

`starlette` is a bare Starlette app with one `Route('/{code}', ...)` that returns a
`RedirectResponse` (302); `raw` is a plain ASGI callable that answers every request with a 302
and a Location header; `ingest` is a bare Starlette `POST /e` that parses the JSON body and
answers 202 (bench/ingest.py). All run under uvicorn in one process with the same options as
`firstmark serve` (loop and http "auto", so uvloop and httptools; no access log, no logging
config, no server header, no proxy headers), so the only difference is the application.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

DESTINATION = "https://example.com/p?x=1"
HOST = "127.0.0.1"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def _redirect(request: Request) -> Response:
    return RedirectResponse(DESTINATION, status_code=302)


def starlette_app() -> Starlette:
    """Starlette's router and response classes, nothing else."""
    return Starlette(routes=[Route("/{code}", _redirect)])


async def _accept(request: Request) -> Response:
    json.loads(await request.body())
    return Response(status_code=202)


def ingest_app() -> Starlette:
    """`POST /e` as bare Starlette: read the body, parse the JSON, answer 202."""
    return Starlette(routes=[Route("/e", _accept, methods=["POST"])])


_RAW_HEADERS = [(b"location", DESTINATION.encode("latin-1")), (b"content-length", b"0")]


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The least an ASGI app can do to answer a redirect: two messages per request."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 302, "headers": _RAW_HEADERS})
        await send({"type": "http.response.body", "body": b""})
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


APPS: dict[str, Callable[[], Any]] = {
    "starlette": starlette_app,
    "raw": lambda: raw_app,
    "ingest": ingest_app,
}


def serve(name: str, port: int, host: str = HOST) -> None:
    """Run one baseline app the way firstmark's `cmd_serve` runs firstmark."""
    import uvicorn

    uvicorn.run(
        APPS[name](),
        host=host,
        port=port,
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in APPS or not argv[1].isdigit():
        print(f"usage: python bench/apps.py {'|'.join(APPS)} PORT", file=sys.stderr)
        return 2
    serve(argv[0], int(argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
