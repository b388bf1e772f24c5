"""A request's head is bounded: Host over 255 bytes → 400, a head over 16 KB → 431, and a
head that never ends is cut off while it streams (on a real server and on the ASGI path)."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from serverproc import HOST, ServerProcess


@pytest.fixture
def server(tmp_path: Path) -> Any:
    proc = ServerProcess(tmp_path)
    try:
        yield proc
    finally:
        proc.kill()


def exchange(port: int, head: bytes, chunk: int = 65536) -> bytes:
    """Send `head` (in chunks, as long as the server reads) and return what comes back."""
    with socket.create_connection((HOST, port), timeout=10) as sock:
        try:
            for start in range(0, len(head), chunk):
                sock.sendall(head[start : start + chunk])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: its answer is waiting
        answer = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
        return answer


def get(host: bytes, extra: bytes = b"") -> bytes:
    return (
        b"GET /nosuchcode HTTP/1.1\r\nhost: "
        + host
        + b"\r\n"
        + extra
        + b"connection: close\r\n\r\n"
    )


@pytest.mark.slow
def test_head_limits_on_a_real_server(server: ServerProcess) -> None:
    server.start()
    assert server.port is not None
    port = server.port

    assert exchange(port, get(b"h" * 255)).startswith(b"HTTP/1.1 404 ")
    refused = exchange(port, get(b"h" * 256))
    assert refused.startswith(b"HTTP/1.1 400 "), refused[:200]
    assert b"Host header" in refused

    many = b"".join(b"x-pad-%d: %s\r\n" % (i, b"v" * 1000) for i in range(17))
    refused = exchange(port, get(b"go.example", many))
    assert refused.startswith(b"HTTP/1.1 431 "), refused[:200]
    fits = b"".join(b"x-pad-%d: %s\r\n" % (i, b"v" * 1000) for i in range(15))
    assert exchange(port, get(b"go.example", fits)).startswith(b"HTTP/1.1 404 ")

    # A 1 MB header value is refused long before it has all been sent.
    started = time.monotonic()
    endless = b"GET /x HTTP/1.1\r\nhost: go.example\r\nx-big: " + b"a" * 2**20
    refused = exchange(port, endless, chunk=16384)
    assert refused.startswith(b"HTTP/1.1 431 "), refused[:200]
    assert time.monotonic() - started < 10
    # The server is fine afterwards.
    assert httpx.get(f"http://{HOST}:{port}/healthz").status_code == 200


async def test_head_limits_on_the_asgi_path(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/somecode", headers={"host": "h" * 256})
    assert r.status_code == 400
    r = await anon.get("/api/v1/links", headers={f"x-pad-{i}": "v" * 1000 for i in range(17)})
    assert r.status_code == 431
    r = await anon.get("/healthz", headers={"host": "h" * 255})
    assert r.status_code == 200
