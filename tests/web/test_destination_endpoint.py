"""A destination's endpoint_base receives its credentials: changing it needs them again, it must
reach a public address (checked when saved and pinned on every connection), and /test never
echoes what the remote end said beyond its status line."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from conftest import BASE_URL
from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.store import Store

TOKEN = "EAAB-very-secret-token-987"
META: dict[str, Any] = {
    "platform": "meta",
    "name": "Meta EU",
    "credentials": {"pixel_id": "1234567890", "access_token": TOKEN},
    "goals": {"purchase": "Purchase"},
    "options": {"test_event_code": "TEST42"},
}
INTERNAL = "internal-admin-page-do-not-leak"


class Internal:
    """A service on loopback that should never be reachable through a destination."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        seen = self.paths

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                seen.append(self.path)
                raw = f'{{"error": "{INTERNAL}", "fbtrace_id": "x"}}'.encode()
                self.send_response(500)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def internal() -> Iterator[Internal]:
    service = Internal()
    threading.Thread(target=service.server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield service
    finally:
        service.server.shutdown()
        service.server.server_close()


@pytest.fixture
async def dest(client: httpx.AsyncClient) -> dict[str, Any]:
    assert (await client.post("/api/v1/goals", json={"name": "purchase"})).status_code == 201
    answer = await client.post("/api/v1/destinations", json=META)
    assert answer.status_code == 201, answer.text
    data: dict[str, Any] = answer.json()
    return data


@pytest.fixture
async def trusting(
    settings: Settings, store: Store, make_key: Callable[..., Any]
) -> AsyncIterator[httpx.AsyncClient]:
    """The API of a server with FIRSTMARK_DESTINATION_ALLOW_PRIVATE on, on the same database."""
    app = create_app(replace(settings, destination_allow_private=True), store)
    key = await make_key("admin")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers={"authorization": f"Bearer {key}"}
    ) as http:
        yield http
    await app.state.runtime.forwarder.client.aclose()


async def _unchanged(client: httpx.AsyncClient, dest: dict[str, Any]) -> None:
    now = (await client.get(f"/api/v1/destinations/{dest['id']}")).json()
    assert now["endpoint_base"] is None and now["credentials"] == dest["credentials"]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"endpoint_base": "https://proxy.example"}, "credentials", "required"),
        ({"endpoint_base": "https://proxy.example", "credentials": {"access_token": "t"}},
         "credentials.pixel_id", "required"),
        ({"endpoint_base": "http://127.0.0.1:9", "credentials": META["credentials"]},
         "endpoint_base", "invalid_field"),
        ({"endpoint_base": "http://169.254.169.254/latest", "credentials": META["credentials"]},
         "endpoint_base", "invalid_field"),
        ({"endpoint_base": "http://[::1]:8080", "credentials": META["credentials"]},
         "endpoint_base", "invalid_field"),
    ],
)  # fmt: skip
async def test_a_new_endpoint_needs_the_credentials_and_a_public_address(
    client: httpx.AsyncClient, dest: dict[str, Any], body: dict[str, Any], field: str, code: str
) -> None:
    answer = await client.patch(f"/api/v1/destinations/{dest['id']}", json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["code"]) == (field, code)
    await _unchanged(client, dest)


async def test_other_changes_keep_the_credentials(
    client: httpx.AsyncClient, dest: dict[str, Any]
) -> None:
    for body in ({"name": "Meta DE"}, {"endpoint_base": None}, {"endpoint_base": ""}):
        answer = await client.patch(f"/api/v1/destinations/{dest['id']}", json=body)
        assert answer.status_code == 200, answer.text
    assert answer.json()["credentials"] == dest["credentials"]


async def test_a_new_endpoint_with_new_credentials_is_saved_where_allowed(
    trusting: httpx.AsyncClient, dest: dict[str, Any], internal: Internal
) -> None:
    body = {"endpoint_base": internal.url, "credentials": {"pixel_id": "9", "access_token": "n"}}
    answer = await trusting.patch(f"/api/v1/destinations/{dest['id']}", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["endpoint_base"] == internal.url


async def test_the_test_event_answers_with_the_status_line_only(
    trusting: httpx.AsyncClient, dest: dict[str, Any], internal: Internal
) -> None:
    body = {"endpoint_base": internal.url, "credentials": META["credentials"]}
    assert (await trusting.patch(f"/api/v1/destinations/{dest['id']}", json=body)).is_success
    answer = await trusting.post(f"/api/v1/destinations/{dest['id']}/test")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["http_status"] == 500 and data["answer"] == "HTTP 500 Internal Server Error"
    assert INTERNAL not in answer.text and TOKEN not in answer.text
    assert internal.paths and internal.paths[0].startswith("/v")


async def test_a_stored_private_endpoint_is_refused_when_connecting(
    trusting: httpx.AsyncClient, client: httpx.AsyncClient, dest: dict[str, Any],
    internal: Internal,
) -> None:  # fmt: skip
    """Saved while private addresses were allowed; the server now refuses them: the connection
    itself is refused, so neither the test event nor forwarding reaches the address."""
    body = {"endpoint_base": internal.url, "credentials": META["credentials"]}
    assert (await trusting.patch(f"/api/v1/destinations/{dest['id']}", json=body)).is_success
    answer = await client.post(f"/api/v1/destinations/{dest['id']}/test")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["http_status"] is None and data["message"] == "refused: loopback address"
    assert internal.paths == []
