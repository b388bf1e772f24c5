"""Bodies without a Content-Length (chunked) are counted while they stream and stopped at the
limit: the server never reads (or spools to disk) more than it would accept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from firstmark.domain.costs import MAX_FILE_BYTES
from firstmark.domain.qrrender import MAX_LOGO_BYTES

CHUNK = 64 * 1024


class Endless:
    """A request body that would go on for `total` bytes, counting what was pulled."""

    def __init__(self, head: bytes = b"", total: int = 300 * 2**20) -> None:
        self.head = head
        self.total = total
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.head:
            self.sent += len(self.head)
            yield self.head
        while self.sent < self.total:
            self.sent += CHUNK
            yield b"a" * CHUNK


def multipart(field: str, filename: str, media_type: str) -> tuple[bytes, str]:
    boundary = "fmboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{filename}"\r\nContent-Type: {media_type}\r\n\r\n'
    ).encode()
    return head, f"multipart/form-data; boundary={boundary}"


async def test_chunked_cost_csv_is_stopped_at_the_limit(client: httpx.AsyncClient) -> None:
    body = Endless(b"date,campaign,spend\n")
    r = await client.post(
        "/api/v1/costs/import", content=body, headers={"content-type": "text/csv"}
    )
    assert r.status_code == 413, r.text
    assert body.sent <= MAX_FILE_BYTES + 2 * CHUNK


async def test_chunked_multipart_cost_upload_is_stopped_at_the_limit(
    client: httpx.AsyncClient,
) -> None:
    head, media_type = multipart("file", "costs.csv", "text/csv")
    body = Endless(head)
    r = await client.post(
        "/api/v1/costs/import", content=body, headers={"content-type": media_type}
    )
    assert r.status_code == 413, r.text
    assert body.sent <= MAX_FILE_BYTES + 64 * 1024 + 2 * CHUNK


async def test_chunked_multipart_logo_is_stopped_at_the_limit(client: httpx.AsyncClient) -> None:
    head, media_type = multipart("file", "logo.png", "image/png")
    body = Endless(head)
    r = await client.post("/api/v1/qr/logos", content=body, headers={"content-type": media_type})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "logo"
    assert body.sent <= MAX_LOGO_BYTES + 16 * 1024 + 2 * CHUNK


async def test_chunked_json_is_stopped_at_the_limit(client: httpx.AsyncClient) -> None:
    body = Endless(b'{"destination": "')
    r = await client.post(
        "/api/v1/links", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 413, r.text
    assert body.sent <= 64 * 1024 + 2 * CHUNK


async def test_chunked_login_form_is_stopped_at_the_limit(app: Any) -> None:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://fm.test") as anon:
        body = Endless(b"username=admin&password=")
        r = await anon.post(
            "/dashboard/login",
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert r.status_code == 413, r.text
    assert body.sent <= 64 * 1024 + 2 * CHUNK
