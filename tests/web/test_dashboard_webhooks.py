"""Webhooks in the dashboard: add an endpoint (its secret shown once, in the page), send a
test event to a receiver on loopback that verifies it with the reference package, see it in
the last deliveries, rotate the secret, remove the endpoint."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from conftest import BASE_URL
from firstmark.config import Settings
from firstmark.domain.passwords import hash_password
from firstmark.store import Store

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, webhook_allow_private=True)


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.got: list[Any] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["content-length"]))
                receiver.got.append(Webhook(receiver.secret).verify(raw, dict(self.headers)))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/in"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    threading.Thread(target=r.server.serve_forever, args=(0.05,), daemon=True).start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


@pytest.fixture
async def dash(app: Any, store: Store) -> AsyncIterator[httpx.AsyncClient]:
    await store.insert_user("admin", hash_password(PASSWORD), "owner")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        form = await http.get("/dashboard/login")
        answer = await http.post(
            "/dashboard/login",
            data={"csrf": csrf_of(form.text), "username": "admin", "password": PASSWORD},
        )
        assert answer.status_code == 303
        yield http
    await app.state.runtime.webhook_sender.client.aclose()


async def test_add_test_rotate_and_remove(
    dash: httpx.AsyncClient, receiver: Receiver, store: Store
) -> None:
    page = (await dash.get("/dashboard/webhooks")).text
    assert "Add an endpoint" in page and 'href="/dashboard/webhooks"' in page
    token = csrf_of(page)
    added = await dash.post(
        "/dashboard/webhooks",
        data={"csrf": token, "url": receiver.url, "events": ["lead.created", "link.created"]},
    )
    assert added.status_code == 201, added.text
    found = re.search(r'id="webhook-secret">(whsec_[^<]+)<', added.text)
    assert found
    receiver.secret = html.unescape(found.group(1))
    assert receiver.secret not in (await dash.get("/dashboard/webhooks")).text  # shown once
    (ep,) = await store.list_webhooks()

    tested = await dash.post(f"/dashboard/webhooks/{ep.id}/test", data={"csrf": token})
    assert tested.status_code == 303
    after = (await dash.get("/dashboard/webhooks")).text
    assert "Test event delivered (HTTP 200)." in html.unescape(after)
    assert "webhook.test" in after and "<td>sent</td>" in after
    assert [g["type"] for g in receiver.got] == ["webhook.test"]

    rotated = await dash.post(f"/dashboard/webhooks/{ep.id}/rotate", data={"csrf": token})
    assert 'id="webhook-secret">whsec_' in rotated.text
    assert receiver.secret not in rotated.text

    bad = await dash.post(
        "/dashboard/webhooks", data={"csrf": token, "url": receiver.url, "events": []}
    )
    assert bad.status_code == 422 and "events" in bad.text

    removed = await dash.post(f"/dashboard/webhooks/{ep.id}/remove", data={"csrf": token})
    assert removed.status_code == 303
    assert await store.list_webhooks() == []
