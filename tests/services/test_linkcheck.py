"""Destination health checks against a real HTTP server on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from firstmark.cli import main
from firstmark.domain.linkcheck import forbidden_address
from firstmark.domain.links import Link
from firstmark.services import linkcheck
from firstmark.store import Store

SEEN: list[tuple[str, str]] = []


class Handler(BaseHTTPRequestHandler):
    def _answer(self, method: str) -> None:
        SEEN.append((method, self.path))
        path = self.path.split("?")[0]
        if path == "/ok":
            self.send_response(200)
        elif path == "/gone":
            self.send_response(404)
        elif path == "/hop":
            self.send_response(302)
            self.send_header("location", "/ok")
        elif path == "/loop":
            self.send_response(302)
            self.send_header("location", "/loop")
        elif path == "/no-head" and method == "HEAD":
            self.send_response(405)
        elif path == "/no-head":
            self.send_response(200)
        elif path == "/slow":
            time.sleep(1.0)
            self.send_response(200)
        else:
            self.send_response(500)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:
        self._answer("HEAD")

    def do_GET(self) -> None:
        self._answer("GET")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    SEEN.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    ("path", "ok", "status", "error"),
    [
        ("/ok", True, 200, None),
        ("/gone", False, 404, "HTTP 404"),
        ("/hop", True, 200, None),
        ("/no-head", True, 200, None),
        ("/loop", False, None, "more than 5 redirects"),
        ("/slow", False, None, "timed out"),
        ("/boom", False, 500, "HTTP 500"),
    ],
)
async def test_check_url(origin: str, path: str, ok: bool, status: int, error: str) -> None:
    async with httpx.AsyncClient(timeout=0.3) as http:
        found = await linkcheck.check_url(http, origin + path)
    assert found[:3] == (ok, status, error)
    if path == "/hop":
        assert found[3] == origin + "/ok"
    if path == "/no-head":
        assert SEEN == [("HEAD", "/no-head"), ("GET", "/no-head")]
    if path == "/ok":
        assert SEEN == [("HEAD", "/ok")]


async def test_private_and_loopback_addresses_are_refused_by_default(origin: str) -> None:
    async with linkcheck.client(1) as http:
        found = await linkcheck.check_url(http, origin + "/ok")
    assert found[:3] == (False, None, "refused: loopback address")
    assert SEEN == []  # nothing was requested


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.0.1", True),
        ("169.254.169.254", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("fd00::1", True),
        ("8.8.8.8", False),
        ("2001:4860:4860::8888", False),
    ],
)
def test_forbidden_addresses(address: str, refused: bool) -> None:
    assert (forbidden_address(address) is not None) is refused


async def test_check_links_stores_health_for_every_link(store: Store, origin: str) -> None:
    good = await store.insert_link(Link(destination=origin + "/ok", code="good"))
    bad = await store.insert_link(Link(destination=origin + "/gone", code="bad"))
    twin = await store.insert_link(Link(destination=origin + "/ok", code="twin"))
    async with httpx.AsyncClient(timeout=1) as http:
        found = await linkcheck.check_links(store, http, await linkcheck.active_links(store))
    assert len(found) == 3
    assert SEEN.count(("HEAD", "/ok")) == 1  # one request per distinct destination
    stored = await store.health_for([good.id or 0, bad.id or 0, twin.id or 0])
    assert stored[good.id or 0].ok and stored[twin.id or 0].ok
    assert stored[bad.id or 0].status == 404 and not stored[bad.id or 0].ok


async def test_an_event_window_is_what_gets_checked(store: Store, origin: str) -> None:
    from datetime import UTC, datetime, timedelta

    from firstmark.domain.schedules import Schedule

    link = await store.insert_link(Link(destination=origin + "/ok", code="fest"))
    now = datetime.now(UTC)
    await store.set_schedule(
        Schedule(
            link_id=link.id or 0,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=1),
            during_url=origin + "/gone",
        )
    )
    async with httpx.AsyncClient(timeout=1) as http:
        found = await linkcheck.check_links(store, http, [link])
    assert (found[0].destination, found[0].ok) == (origin + "/gone", False)


async def test_api_shows_failing_links(
    client: httpx.AsyncClient, app: Any, origin: str, store: Store
) -> None:
    link = (
        await client.post("/api/v1/links", json={"destination": origin + "/gone", "code": "g"})
    ).json()
    assert (await client.get(f"/api/v1/links/{link['id']}/health")).json()["health"] is None
    refused = await client.post(f"/api/v1/links/{link['id']}/health")
    assert refused.json()["health"]["error"] == "refused: loopback address"
    runtime = app.state.runtime
    allowing = replace(runtime.settings, healthcheck_allow_private=True)
    app.state.runtime = replace(runtime, settings=allowing)
    try:
        checked = await client.post(f"/api/v1/links/{link['id']}/health")
    finally:
        app.state.runtime = runtime
    assert checked.json()["health"]["status"] == 404
    failing = (await client.get("/api/v1/health/failing")).json()
    assert [f["link_id"] for f in failing["failing"]] == [link["id"]]


@pytest.mark.slow
def test_cli_links_check(
    tmp_path: Path, origin: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FIRSTMARK_DATABASE_URL", f"sqlite:///{tmp_path}/fm.db")
    monkeypatch.setenv("FIRSTMARK_SECRET_KEY", "x")
    monkeypatch.setenv("FIRSTMARK_HEALTHCHECK_ALLOW_PRIVATE", "1")
    assert main(["link", "create", origin + "/ok", "--code", "fine"]) == 0
    assert main(["link", "create", origin + "/gone", "--code", "broken"]) == 0
    capsys.readouterr()
    assert main(["links", "check"]) == 0
    out = capsys.readouterr()
    assert "2 checked, 1 failing" in out.err
    assert "FAIL" in out.out and "404" in out.out
    assert main(["links", "check", "--strict"]) == 1
    monkeypatch.setenv("FIRSTMARK_HEALTHCHECK_ALLOW_PRIVATE", "0")
    capsys.readouterr()
    assert main(["links", "check", "--link", "fine"]) == 0
    assert "refused: loopback address" in capsys.readouterr().out


@pytest.mark.slow
def test_serve_checks_destinations_in_the_background(tmp_path: Path, origin: str) -> None:
    import signal

    from serverproc import ServerProcess

    server = ServerProcess(
        tmp_path,
        env={"FIRSTMARK_HEALTHCHECK_INTERVAL": "0.3", "FIRSTMARK_HEALTHCHECK_ALLOW_PRIVATE": "1"},
    )
    try:
        base_url, key = server.start()
        headers = {"authorization": f"Bearer {key}"}
        made = httpx.post(
            f"{base_url}/api/v1/links",
            json={"destination": origin + "/gone", "code": "poster"},
            headers=headers,
        )
        link_id = made.json()["id"]
        deadline = time.monotonic() + 15
        health = None
        while health is None and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = httpx.get(f"{base_url}/api/v1/links/{link_id}/health", headers=headers)
            health = answer.json()["health"]
        assert health is not None, server.log_tail()
        assert (health["ok"], health["status"]) == (False, 404)
        failing = httpx.get(f"{base_url}/api/v1/health/failing", headers=headers).json()
        assert [f["link_id"] for f in failing["failing"]] == [link_id]
        assert server.stop(signal.SIGTERM) == 0
    finally:
        server.kill()
