"""`POST /e` answered inside the HTTP protocol: the same answers as the ASGI path, the same
event queued, and the ASGI path whenever the body is not all there or the site not in memory."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from fastpathtools import FakeTransport, open_connection
from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.domain.sites import Site, new_key
from firstmark.store import Store
from serverproc import HOST, ServerProcess

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"  # noqa: E501
CLIENT = ("127.0.0.1", 41000)
DATE = b"date: Wed, 25 Nov 2026 12:00:00 GMT\r\n"


async def site_key(client: httpx.AsyncClient, anon: httpx.AsyncClient) -> str:
    """A site whose key is in memory: one event through the ASGI path puts it there."""
    answer = await client.post("/api/v1/sites", json={"hosts": ["shop.example"]})
    assert answer.status_code == 201, answer.text
    key: str = answer.json()["key"]
    first = await anon.post("/e", content=body(key), headers=asgi_headers())
    assert first.status_code == 202, first.text
    return key


def body(key: str, **fields: Any) -> bytes:
    event = {"site": key, "type": "pageview", "url": "https://shop.example/p", **fields}
    return json.dumps(event).encode()


def asgi_headers(**extra: str) -> dict[str, str]:
    return {"content-type": "text/plain;charset=UTF-8", "origin": "https://shop.example",
            "user-agent": UA, **extra}  # fmt: skip


def head(content: bytes, **extra: str) -> list[tuple[bytes, bytes]]:
    fields = {**asgi_headers(**extra), "content-length": str(len(content))}
    return [(k.encode(), v.encode()) for k, v in fields.items()]


def parse(response: bytes) -> tuple[str, dict[str, str], bytes]:
    top, sep, rest = response.partition(b"\r\n\r\n")
    assert sep, response
    status, *lines = top.decode("latin-1").split("\r\n")
    headers = dict((n.lower(), v) for n, _, v in (line.partition(": ") for line in lines))
    return status, headers, rest


def quick(app: Any, content: bytes, keep_alive: bool = True, **extra: str) -> Any:
    collect = app.state.runtime.collect
    return collect.quick(head(content, **extra), CLIENT, content, DATE, keep_alive)


async def test_an_event_gets_the_answer_and_the_row_of_the_asgi_path(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key = await site_key(client, anon)
    slow = await anon.post("/e", content=body(key, vid="visitor-1234"), headers=asgi_headers())
    writer = app.state.runtime.event_writer

    answer = quick(app, body(key, vid="visitor-1234"))

    status, headers, rest = parse(answer)
    assert status == "HTTP/1.1 202 Accepted" and rest == b""
    assert {k: v for k, v in headers.items() if k != "date"} == dict(slow.headers)
    assert headers["date"] == "Wed, 25 Nov 2026 12:00:00 GMT"
    fast_raw, slow_raw = writer._buf[-1], writer._buf[-2]
    assert fast_raw.event == slow_raw.event and fast_raw.consent == slow_raw.consent
    assert (fast_raw.site_id, fast_raw.user_agent) == (slow_raw.site_id, slow_raw.user_agent)
    await writer.drain()
    site = await store.site_by_key(key)
    assert site is not None and site.id is not None
    assert len(await store.list_events(site.id)) == 3


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"{not json", 400, "invalid_body"),
        (b"   ", 400, "invalid_body"),
        (b'{"site": "x\\u0000", "url": "https://shop.example/"}', 422, "invalid_text"),
        (b'{"site": "KEY", "url": "https://shop.example/", "nope": 1}', 422, "unknown_field"),
        (b'{"site": "KEY", "url": "https://elsewhere.example/"}', 403, "unknown_host"),
        (b'{"site": "KEY", "url": "https://shop.example/", "consent": {"ad_storage": "maybe"}}',
         422, "invalid_field"),
    ],
)  # fmt: skip
async def test_refusals_are_the_asgi_paths_and_nothing_is_queued(
    app: Any,
    client: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    content: bytes,
    status: int,
    code: str,
) -> None:
    key = await site_key(client, anon)
    content = content.replace(b"KEY", key.encode())
    slow = await anon.post("/e", content=content, headers=asgi_headers())
    writer = app.state.runtime.event_writer
    depth = writer.depth

    line, headers, rest = parse(quick(app, content))

    assert (slow.status_code, slow.json()["error"]["code"]) == (status, code)
    assert line.startswith(f"HTTP/1.1 {status} ")
    assert json.loads(rest) == slow.json()
    assert headers["content-length"] == str(len(rest)) == slow.headers["content-length"]
    assert headers["content-type"] == "application/json"
    assert writer.depth == depth


async def test_an_unknown_key_once_looked_up_is_refused_in_place(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await site_key(client, anon)
    malformed = parse(quick(app, body("pk_" + "a" * 24)))  # no store lookup for that
    assert json.loads(malformed[2])["error"]["code"] == "unknown_site"
    unknown = body("fms_" + "a" * 16)
    assert quick(app, unknown) is None  # not in memory yet: the ASGI path reads the store
    assert (await anon.post("/e", content=unknown, headers=asgi_headers())).status_code == 403
    status, _, rest = parse(quick(app, unknown))
    assert status == "HTTP/1.1 403 Forbidden"
    assert json.loads(rest)["error"]["code"] == "unknown_site"


async def test_gpc_header_and_closing_connection(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    key = await site_key(client, anon)
    granted = {"analytics_storage": "granted", "ad_user_data": "granted"}
    answer = quick(app, body(key, consent=granted), keep_alive=False, **{"sec-gpc": "1"})
    status, headers, _ = parse(answer)
    assert status == "HTTP/1.1 202 Accepted" and headers["connection"] == "close"
    raw = app.state.runtime.event_writer._buf[-1]
    assert raw.consent.gpc and not raw.consent.identifiers and not raw.consent.forwarding


async def test_the_rate_limit_answers_429_first_and_an_uncached_site_takes_no_token(
    settings: Settings, store: Store
) -> None:
    limited = create_app(replace(settings, event_rate_limit=0.001, event_rate_burst=2), store)
    runtime = limited.state.runtime
    site = await store.insert_site(Site("shop", new_key(), ("shop.example",)))
    content = body(site.key)
    assert quick(limited, content) is None  # the site is not in memory: no token taken
    await runtime.sites.get(site.key)
    answers = [parse(quick(limited, content)) for _ in range(2)]
    assert [a[0] for a in answers] == ["HTTP/1.1 202 Accepted"] * 2
    status, headers, rest = parse(quick(limited, b"{not json"))
    assert status == "HTTP/1.1 429 Too Many Requests" and int(headers["retry-after"]) >= 1
    assert json.loads(rest)["error"]["code"] == "rate_limited"
    assert runtime.event_writer.depth == 2


async def test_a_length_that_does_not_match_takes_the_asgi_path(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    key = await site_key(client, anon)
    content = body(key)
    collect = app.state.runtime.collect
    short = [(k, b"9999" if k == b"content-length" else v) for k, v in head(content)]
    assert collect.quick(short, CLIENT, content, DATE, True) is None
    chunked = [(k, v) for k, v in head(content) if k != b"content-length"]
    assert collect.quick(chunked, CLIENT, content, DATE, True) is None


# --- through the protocol -----------------------------------------------------------------


def connect(app: Any) -> tuple[Any, FakeTransport]:
    from firstmark.web.fastpath import click_protocol

    return open_connection(click_protocol(app, app.state.runtime.collect), app, CLIENT)


def post(content: bytes) -> tuple[bytes, bytes]:
    top = (
        f"POST /e HTTP/1.1\r\nHost: fm.test\r\nOrigin: https://shop.example\r\n"
        f"User-Agent: {UA}\r\nContent-Type: text/plain\r\nContent-Length: {len(content)}\r\n\r\n"
    ).encode()
    return top, content


async def wait_written(transport: FakeTransport, count: int) -> None:
    for _ in range(200):
        if transport.written.count(b"HTTP/1.1 202") >= count:
            return
        await asyncio.sleep(0.01)


async def test_a_whole_request_in_one_read_is_answered_without_asgi(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    key = await site_key(client, anon)
    writer = app.state.runtime.event_writer
    before = writer.written + writer.depth  # queued or stored already
    protocol, transport = connect(app)

    protocol.data_received(b"".join(post(body(key))))

    assert protocol.cycle is None  # no ASGI request was made
    assert transport.written.startswith(b"HTTP/1.1 202 Accepted\r\ndate: ")
    assert writer.written + writer.depth == before + 1
    # A body that comes in a later read: the ASGI path, with the same answer.
    top, content = post(body(key))
    protocol.data_received(top)
    protocol.data_received(content)
    assert protocol.cycle is not None
    await wait_written(transport, 2)
    assert transport.written.count(b"HTTP/1.1 202 Accepted\r\n") == 2
    assert writer.written + writer.depth == before + 2


async def test_a_full_event_buffer_pauses_the_connection_until_there_is_room(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    key = await site_key(client, anon)
    writer = app.state.runtime.event_writer
    await writer.drain()
    written = writer.written
    protocol, transport = connect(app)
    capacity = writer.rate.cap
    writer.rate.cap = writer.depth  # full, and the idle writer frees nothing
    try:
        protocol.data_received(b"".join(post(body(key))))
        await asyncio.sleep(0.05)
        assert (transport.written, transport.reading, protocol.cycle) == (b"", False, None)
    finally:
        writer.rate.cap = capacity
    writer._admit()  # as a flush does once it has freed room
    await wait_written(transport, 1)
    assert transport.written.startswith(b"HTTP/1.1 202 Accepted\r\n")
    assert transport.reading and writer.written + writer.depth == written + 1


@pytest.mark.slow
def test_events_on_a_real_server_keep_alive_pipelining_and_every_row_stored(
    tmp_path: Path,
) -> None:
    server = ServerProcess(tmp_path, env={"FIRSTMARK_TRUSTED_PROXIES": "127.0.0.1/32"})
    try:
        base_url, api_key = server.start()
        port = server.port
        assert port is not None
        made = httpx.post(
            f"{base_url}/api/v1/sites",
            json={"hosts": ["shop.example"]},
            headers={"authorization": f"Bearer {api_key}"},
        )
        assert made.status_code == 201, made.text
        key = made.json()["key"]
        with socket.create_connection((HOST, port)) as sock:
            sock.settimeout(5)
            for n in range(30):  # one after another, each from another client
                top, content = post(body(key, vid=f"visitor-{n:04d}"))
                top = top.replace(b"\r\n\r\n", f"\r\nX-Forwarded-For: 11.0.{n}.7\r\n\r\n".encode())
                sock.sendall(top + content)
                assert read_heads(sock, 1)[0].startswith(b"HTTP/1.1 202 Accepted")
            # Three in one write (pipelined: the ASGI path, in order), then a refusal.
            sock.sendall(b"".join(b"".join(post(body(key))) for _ in range(3)))
            sock.sendall(b"".join(post(b"{bad")))
            heads = read_heads(sock, 4)
        assert [h.split(b"\r\n", 1)[0] for h in heads] == [b"HTTP/1.1 202 Accepted"] * 3 + [
            b"HTTP/1.1 400 Bad Request"
        ]
        assert server.stop(signal.SIGTERM) == 0
        with sqlite3.connect(server.db_path) as conn:
            rows = conn.execute("SELECT count(*) FROM events").fetchone()[0]
            visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
        assert (rows, visits) == (33, 31)  # 30 addresses, and the loopback's three
    finally:
        server.kill()


def read_heads(sock: socket.socket, count: int) -> list[bytes]:
    """The heads of the next `count` responses (their bodies read and skipped)."""
    data = b""
    out: list[bytes] = []
    while len(out) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"closed after {len(out)} responses"
            data += chunk
        top, _, data = data.partition(b"\r\n\r\n")
        length = next(
            (int(v) for n, _, v in (x.partition(b": ") for x in top.split(b"\r\n")[1:])
             if n.lower() == b"content-length"),
            0,
        )  # fmt: skip
        while len(data) < length:
            data += sock.recv(65536)
        out.append(top)
        data = data[length:]
    return out
