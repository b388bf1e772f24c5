"""A tracking script served from memory: `GET /fm.js` and `GET /fm-phone.js`.

Read once at start, gzipped once (level 9), and answered without touching the router; the
browser may cache it for an hour.
"""

from __future__ import annotations

import gzip
from importlib import resources

from starlette.types import Scope, Send


class Script:
    def __init__(self, name: str) -> None:
        self.raw = resources.files("firstmark.static").joinpath(name).read_bytes()
        self.gz = gzip.compress(self.raw, 9, mtime=0)

    async def serve(self, scope: Scope, send: Send) -> None:
        zipped = any(
            name == b"accept-encoding" and b"gzip" in value for name, value in scope["headers"]
        )
        body = self.gz if zipped else self.raw
        headers = [
            (b"content-type", b"text/javascript; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"public, max-age=3600"),
            (b"vary", b"accept-encoding"),
            (b"x-content-type-options", b"nosniff"),
        ]
        if zipped:
            headers.append((b"content-encoding", b"gzip"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
