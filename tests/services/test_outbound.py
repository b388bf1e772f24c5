"""The guarded client: resolve once, check every address, connect to the checked address while
keeping the host name for Host (and TLS)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from firstmark.services import linkcheck, outbound

SEEN: list[str] = []  # the Host header of every request the local server got


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        SEEN.append(self.headers.get("host", ""))
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_HEAD = do_GET


@pytest.fixture
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    SEEN.clear()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Answers:
    """A resolver with scripted answers per name; counts its lookups."""

    def __init__(self, **names: list[list[str]]) -> None:
        self.names = {k.replace("_", "."): list(v) for k, v in names.items()}
        self.calls = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        script = self.names[host]
        return script.pop(0) if len(script) > 1 else script[0]


async def test_the_connection_goes_to_the_checked_address_with_the_host_name(port: int) -> None:
    answers = Answers(shop_test=[["127.0.0.1"], ["10.9.9.9"]])
    async with outbound.guarded_client(2, allow_private=True, resolver=answers) as http:
        first = await http.get(f"http://shop.test:{port}/a")
    assert first.status_code == 200 and first.text == "ok"
    assert SEEN == [f"shop.test:{port}"] and answers.calls == 1


@pytest.mark.parametrize(
    ("addresses", "why"),
    [
        (["127.0.0.1"], "refused: loopback address"),
        (["10.0.0.8"], "refused: private or reserved address"),
        (["169.254.169.254"], "refused: private or reserved address"),
        (["::1"], "refused: loopback address"),
        (["::ffff:127.0.0.1"], "refused: loopback address"),
        (["93.184.215.14", "127.0.0.1"], "refused: loopback address"),  # any bad one refuses
    ],
)
async def test_non_public_addresses_are_refused_before_connecting(
    port: int, addresses: list[str], why: str
) -> None:
    answers = Answers(shop_test=[addresses])
    async with outbound.guarded_client(2, resolver=answers) as http:
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get(f"http://shop.test:{port}/a")
    assert outbound.refusal(caught.value) == why
    assert SEEN == []


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    async def nothing(host: str, port: int) -> list[str]:
        raise socket.gaierror("no such name")

    async with outbound.guarded_client(2, resolver=nothing) as http:
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get("http://nowhere.test/")
    assert outbound.refusal(caught.value) == "refused: host name does not resolve"


async def test_dns_rebinding_cannot_reach_the_server_behind_the_check(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name resolves to a public address for the first lookup and to loopback after: a
    check that resolves, then a client that resolves again, would be sent to loopback."""
    real = asyncio.BaseEventLoop.getaddrinfo
    lookups: list[str] = []

    async def rebinding(self: asyncio.BaseEventLoop, host: Any, *args: Any, **kw: Any) -> Any:
        if host in ("rebind.test", b"rebind.test"):  # anyio passes the name IDNA-encoded
            lookups.append(host)
            host = "93.184.215.14" if len(lookups) == 1 else "127.0.0.1"
        return await real(self, host, *args, **kw)

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", rebinding)
    async with linkcheck.client(0.5) as http:
        ok, status, error, _ = await linkcheck.check_url(http, f"http://rebind.test:{port}/ok")
    assert not ok and status is None and error is not None
    assert SEEN == []  # loopback was never reached
    assert lookups == ["rebind.test"]  # one lookup: the checked address is the one used


async def test_endpoints_are_checked_when_saved() -> None:
    await outbound.check_endpoint("http://127.0.0.1:9/x", allow_private=True)
    for url, why in [
        ("http://127.0.0.1:9/x", "refused: loopback address"),
        ("https://[::1]/x", "refused: loopback address"),
        ("http://169.254.169.254/latest", "refused: private or reserved address"),
        ("http://h.test:99999/", "refused: not a valid port"),
    ]:
        with pytest.raises(outbound.Refused, match=why.replace("(", r"\(")):
            await outbound.check_endpoint(url, allow_private=False)
