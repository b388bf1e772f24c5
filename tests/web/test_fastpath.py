"""Warm clicks answered inside the HTTP protocol: the same answer as the ASGI path, and HTTP kept
honest (keep-alive, pipelining, HTTP/1.0, HEAD, idle timeout, a full hit buffer)."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from agents import DESKTOP
from fastpathtools import FakeTransport, open_connection
from firstmark.config import Settings
from firstmark.domain.clicks import ClickSigner
from firstmark.web.fastpath import click_protocol
from serverproc import HOST, ServerProcess

DESTINATION = "https://shop.example/p?ref=home#buy"
CLIENT = ("198.51.100.4", 41000)
DATE = b"date: Wed, 25 Nov 2026 12:00:00 GMT\r\n"


def parse(response: bytes) -> tuple[str, list[tuple[str, str]]]:
    """(status line, headers) of one raw HTTP response without a body."""
    head, sep, rest = response.partition(b"\r\n\r\n")
    assert sep and rest == b"", response
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, [(n.lower(), v) for n, _, v in (line.partition(": ") for line in lines)]


def request_headers(host: str = "fm.test") -> list[tuple[bytes, bytes]]:
    return [(b"host", host.encode()), (b"user-agent", DESKTOP.encode()), (b"accept", b"*/*")]


async def warm(client: httpx.AsyncClient, anon: httpx.AsyncClient, **fields: Any) -> None:
    """Create a link and click it once through the ASGI path, which puts it in the cache."""
    r = await client.post("/api/v1/links", json={"destination": DESTINATION, **fields})
    assert r.status_code == 201, r.text
    first = await anon.get(f"/{r.json()['code']}", headers={"user-agent": DESKTOP})
    assert first.status_code in (200, 301, 302, 307, 308), first.text  # 200: a password form


def quick(app: Any, path: bytes, method: bytes = b"GET", keep_alive: bool = True) -> bytes | None:
    answer: bytes | None = app.quick(
        method,
        path,
        request_headers(),
        CLIENT,
        b"date: Wed, 25 Nov 2026 12:00:00 GMT\r\n",
        keep_alive,
    )
    return answer


async def test_warm_click_gets_the_same_answer_as_the_asgi_path(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, settings: Settings
) -> None:
    await warm(client, anon, code="fast", utm_source="news", utm_medium="email")
    slow = await anon.get("/fast", headers={"user-agent": DESKTOP})
    depth = app.state.runtime.writer.depth

    answer = quick(app, b"/fast?ignored=1")

    assert answer is not None
    status, headers = parse(answer)
    assert status == "HTTP/1.1 302 Found"
    assert headers[0] == ("date", "Wed, 25 Nov 2026 12:00:00 GMT")
    fast = dict(headers)
    for name in ("content-length", "cache-control", "referrer-policy", "x-robots-tag"):
        assert fast[name] == slow.headers[name], name
    assert set(fast) == {"date", *slow.headers.keys()}
    where, expected = urlsplit(fast["location"]), urlsplit(slow.headers["location"])
    assert (where.netloc, where.path, where.fragment) == (expected.netloc, "/p", "buy")
    params, slow_params = dict(parse_qsl(where.query)), dict(parse_qsl(expected.query))
    assert params.keys() == slow_params.keys()
    assert {k: v for k, v in params.items() if k != "fm_click"} == {
        "ref": "home",
        "utm_source": "news",
        "utm_medium": "email",
    }
    click = ClickSigner(settings.secret_key).verify(params["fm_click"])
    assert click is not None and params["fm_click"] != slow_params["fm_click"]
    assert app.state.runtime.writer.depth == depth + 1  # the click is counted


async def test_head_answers_without_a_hit_and_close_is_announced(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await warm(client, anon, code="perm", redirect_status=301, noindex=False)
    depth = app.state.runtime.writer.depth

    answer = quick(app, b"/perm", method=b"HEAD", keep_alive=False)

    assert answer is not None
    status, headers = parse(answer)
    assert status == "HTTP/1.1 301 Moved Permanently"
    assert ("connection", "close") in headers
    assert "x-robots-tag" not in dict(headers)
    assert app.state.runtime.writer.depth == depth


async def test_scan_path_records_a_scan(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await warm(client, anon, code="poster")
    assert quick(app, b"/q/poster") is not None
    assert app.state.runtime.writer._buf[-1].kind == "scan"


@pytest.mark.parametrize(
    ("fields", "path", "method"),
    [
        ({"code": "rules", "rules": [{"device": "mobile", "destination": "https://m.example/"}]},
         b"/rules", b"GET"),
        ({"code": "limited", "max_hits": 5}, b"/limited", b"GET"),
        ({"code": "secret", "password": "open sesame"}, b"/secret", b"GET"),
        ({"code": "later", "expires_at": "2099-01-01T00:00:00Z"}, b"/later", b"GET"),
        ({"code": "fwd", "forward_query": True}, b"/fwd?x=1", b"GET"),
        ({"code": "plain"}, b"/plain", b"POST"),
        ({"code": "plain"}, b"/pl%61in", b"GET"),
        ({"code": "plain"}, b"http://fm.test/plain", b"GET"),
        ({"code": "plain"}, b"/nope", b"GET"),
        ({"code": "plain"}, b"/api", b"GET"),
        ({"code": "plain"}, b"/plain/more", b"GET"),
    ],
)  # fmt: skip
async def test_anything_but_a_warm_simple_click_takes_the_asgi_path(
    app: Any,
    client: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    fields: dict[str, Any],
    path: bytes,
    method: bytes,
) -> None:
    await warm(client, anon, **fields)
    depth = app.state.runtime.writer.depth
    assert quick(app, path, method=method) is None
    assert app.state.runtime.writer.depth == depth


async def test_uncached_link_takes_the_asgi_path(app: Any, client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/links", json={"destination": DESTINATION, "code": "cold"})
    assert r.status_code == 201
    assert quick(app, b"/cold") is None


async def test_full_hit_buffer_leaves_the_click_to_the_waiting_path(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await warm(client, anon, code="busy")
    writer = app.state.runtime.writer
    capacity = writer.rate.cap
    writer.rate.cap = writer.depth
    try:
        assert quick(app, b"/busy") is None
        assert writer.depth == writer.capacity
    finally:
        writer.rate.cap = capacity


def connect(app: Any) -> tuple[Any, FakeTransport]:
    return open_connection(click_protocol(app), app, CLIENT)


def click_request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: fm.test\r\nUser-Agent: {DESKTOP}\r\n\r\n".encode()


async def test_full_hit_buffer_pauses_the_connection_until_the_hit_has_room(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await warm(client, anon, code="paced")
    writer = app.state.runtime.writer
    await writer.drain()
    protocol, transport = connect(app)
    capacity = writer.rate.cap
    writer.rate.cap = writer.depth  # full: the writer task is idle, nothing frees room
    try:
        protocol.data_received(click_request("/paced"))
        await asyncio.sleep(0.05)
        # No answer and no further reading while the hit has no room; not sent to ASGI either.
        assert (transport.written, transport.reading, protocol.cycle) == (b"", False, None)
        assert writer.depth == writer.capacity
    finally:
        writer.rate.cap = capacity
    writer._admit()  # as a flush does once it has freed room
    for _ in range(100):
        if transport.written:
            break
        await asyncio.sleep(0.01)
    status, headers = parse(transport.written)
    assert status == "HTTP/1.1 302 Found"
    assert dict(headers)["location"].startswith("https://shop.example/p?ref=home")
    assert transport.reading and not transport.closed
    await writer.drain()
    assert await app.state.runtime.store.count_hits() == 2  # the warm-up and this click


async def test_full_hit_buffer_with_more_requests_read_keeps_their_order(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await warm(client, anon, code="queued")
    writer = app.state.runtime.writer
    await writer.drain()
    protocol, transport = connect(app)
    capacity = writer.rate.cap
    writer.rate.cap = writer.depth
    try:
        # Two requests in one read: the first cannot wait with reading paused, as the
        # second is parsed already; it takes the ASGI path, and the second queues behind it.
        protocol.data_received(click_request("/queued") + click_request("/queued"))
        assert protocol.cycle is not None
        assert transport.written == b""
    finally:
        writer.rate.cap = capacity
    writer._space.set()
    for _ in range(200):
        if transport.written.count(b"HTTP/1.1 302") == 2:
            break
        await asyncio.sleep(0.01)
    assert transport.written.count(b"HTTP/1.1 302 Found") == 2


def test_protocol_is_uvicorns_httptools_protocol(app: Any) -> None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    protocol = click_protocol(app)
    assert isinstance(protocol, type) and issubclass(protocol, HttpToolsProtocol)


# --- through a real server ----------------------------------------------------------------


def create(base_url: str, api_key: str, **fields: Any) -> int:
    r = httpx.post(
        f"{base_url}/api/v1/links",
        json={"destination": DESTINATION, **fields},
        headers={"authorization": f"Bearer {api_key}"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def read_responses(sock: socket.socket, count: int, timeout: float = 5.0) -> list[bytes]:
    """The heads of the next `count` responses on a raw socket (bodies read and skipped)."""
    sock.settimeout(timeout)
    data = b""
    out: list[bytes] = []
    while len(out) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed after {len(out)} responses: {data!r}")
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b": ")
            if name.lower() == b"content-length":
                length = int(value)
        while len(data) < length:
            data += sock.recv(65536)
        out.append(head)
        data = data[length:]
    return out


def count_hits(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM hits").fetchone()[0])


def get(path: str, port: int, method: str = "GET", version: str = "1.1") -> bytes:
    return (
        f"{method} {path} HTTP/{version}\r\nHost: {HOST}:{port}\r\nUser-Agent: {DESKTOP}\r\n\r\n"
    ).encode()


@pytest.fixture
def server(tmp_path: Path) -> Any:
    proc = ServerProcess(tmp_path, env={"FIRSTMARK_KEEP_ALIVE": "1"})
    try:
        yield proc
    finally:
        proc.kill()


def serve(server: ServerProcess, **links: dict[str, Any]) -> tuple[str, int]:
    """Start the server, create `links` (code → fields) and click each once to cache it."""
    base_url, api_key = server.start()
    assert server.port is not None
    for code, fields in links.items():
        create(base_url, api_key, code=code, **fields)
        assert httpx.get(f"{base_url}/{code}").status_code == 302, code
    return base_url, server.port


@pytest.mark.slow
def test_keep_alive_pipelining_and_order_on_a_real_server(server: ServerProcess) -> None:
    # "ruled" has a hit limit, so it is not simple: its clicks take the ASGI path.
    base_url, port = serve(server, hot={}, ruled={"max_hits": 100})

    with socket.create_connection((HOST, port)) as sock:
        # 50 clicks one after another on one connection.
        for _ in range(50):
            sock.sendall(get("/hot", port))
            (head,) = read_responses(sock, 1)
            assert head.startswith(b"HTTP/1.1 302 Found\r\n"), head
        # Fast, ASGI, fast, ASGI-with-error, HEAD: one write, answers in order.
        sock.sendall(
            get("/hot", port)
            + get("/ruled", port)
            + get("/hot", port)
            + get("/api/v1/links", port)
            + get("/hot", port, method="HEAD")
        )
        heads = read_responses(sock, 5)
    statuses = [h.split(b"\r\n", 1)[0] for h in heads]
    assert statuses == [
        b"HTTP/1.1 302 Found",
        b"HTTP/1.1 302 Found",
        b"HTTP/1.1 302 Found",
        b"HTTP/1.1 401 Unauthorized",
        b"HTTP/1.1 302 Found",
    ]
    assert b"max_hits" not in heads[1]
    for head in (heads[0], heads[2], heads[4]):
        assert b"location: https://shop.example/p?ref=home&fm_click=" in head

    # A WebSocket upgrade on a link's path is not a click: uvicorn refuses it, and lives on.
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(
            (
                f"GET /hot HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: Upgrade\r\n"
                "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            ).encode()
        )
        (head,) = read_responses(sock, 1)
    assert not head.startswith(b"HTTP/1.1 302"), head
    assert httpx.get(f"{base_url}/healthz").status_code == 200

    assert server.stop(signal.SIGTERM) == 0
    # Warm-up 2 + 50 + hot, ruled, hot (HEAD and the API call are not hits).
    assert count_hits(server.db_path) == 2 + 50 + 3


@pytest.mark.slow
def test_http10_closes_and_idle_connections_time_out(server: ServerProcess) -> None:
    serve(server, idle={})
    port = server.port
    assert port is not None

    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(get("/idle", port, version="1.0"))
        (head,) = read_responses(sock, 1)
        assert b"connection: close" in head
        sock.settimeout(5)
        assert sock.recv(1024) == b""  # the server closed it

    # FIRSTMARK_KEEP_ALIVE=1: a connection in use every 0.4 s outlives the first second...
    with socket.create_connection((HOST, port)) as sock:
        started = time.monotonic()
        while time.monotonic() - started < 2.0:
            sock.sendall(get("/idle", port))
            read_responses(sock, 1)
            idle_from = time.monotonic()
            time.sleep(0.4)
        # ...and one left idle is closed about a second after its last answer.
        sock.settimeout(5)
        assert sock.recv(1024) == b""
        waited = time.monotonic() - idle_from
    assert 0.8 <= waited <= 2.5, waited
