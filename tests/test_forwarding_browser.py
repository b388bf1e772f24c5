"""The Forwarding page in real headless Chromium against a real `firstmark serve` whose
worker forwards to a fake Meta on loopback: destination health with a match-quality hint,
dead rows with the platform's reason, and a replay button that gets one delivered."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from serverproc import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "browser-test-password"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
ADS = {"ad_user_data": "granted", "analytics_storage": "granted"}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


class FakeMeta:
    """Answers Meta's /events: refuses while `refusing`, then accepts; keeps event ids."""

    def __init__(self) -> None:
        self.refusing = True
        self.received: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                answer: dict[str, object]
                if owner.refusing:
                    status, answer = 400, {"error": {"message": "Invalid pixel", "code": 100}}
                else:
                    owner.received += [e["event_id"] for e in body["data"]]
                    status, answer = 200, {"events_received": len(body["data"])}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(check: Any, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    meta = FakeMeta()
    env = {"FIRSTMARK_DESTINATION_ALLOW_PRIVATE": "true", "FIRSTMARK_FORWARD_POLL_S": "0.2"}
    server = ServerProcess(tmp_path_factory.mktemp("forwarding"), env=env)
    try:
        done = server.cli("init", "--password", PASSWORD)
        assert done.returncode == 0, done.stderr
        key = server.api_key = done.stdout.strip()
        base_url, _ = server.start()
        api = httpx.Client(base_url=base_url, headers={"authorization": f"Bearer {key}"})
        assert api.post("/api/v1/goals", json={"name": "purchase"}).status_code == 201
        ARTIFACTS.mkdir(exist_ok=True)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                yield {"browser": browser, "base_url": base_url, "api": api, "meta": meta}
            finally:
                browser.close()
                api.close()
    finally:
        server.kill()
        meta.close()


def test_forwarding_health_hints_dead_rows_and_replay(world: dict[str, Any]) -> None:
    base_url, api, meta = world["base_url"], world["api"], world["meta"]
    dest = api.post(
        "/api/v1/destinations",
        json={
            "platform": "meta",
            "name": "Meta shop",
            "goals": {"purchase": "Purchase"},
            "credentials": {"pixel_id": "42", "access_token": "EAAB-browser-token"},
            "endpoint_base": meta.url,
        },
    )
    assert dest.status_code == 201, dest.text
    # 20 conversions, 5 of them with an fbclid: Meta refuses them all.
    for n in range(20):
        clicks = {"fbclid": f"IwAR{n}"} if n < 5 else {}
        body = {"event_id": f"order-{n}", "goal": "purchase", "consent": ADS,
                "user_data": {"email": f"u{n}@example.com"}, "click_ids": clicks}  # fmt: skip
        assert api.post("/api/v1/conversions", json=body).status_code == 201
    wait_for(
        lambda: len(api.get("/api/v1/outbox", params={"status": "dead"}).json()["items"]) == 20
    )
    page = world["browser"].new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base_url}/dashboard/forwarding")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/dashboard/forwarding")
    health = page.locator("section", has=page.locator("#health-title"))
    sync_api.expect(health).to_contain_text("Meta shop")
    sync_api.expect(health).to_contain_text("75 % of meta events had no fbc")
    sync_api.expect(health).to_contain_text("100 %")  # every attempt failed
    sync_api.expect(health).to_contain_text("none in 24 h")
    dead = page.locator("section", has=page.locator("#dead-title"))
    sync_api.expect(dead).to_contain_text("order-7")
    sync_api.expect(dead).to_contain_text("Invalid pixel")
    page.screenshot(path=str(ARTIFACTS / "dashboard-forwarding.png"), full_page=True)
    # The platform is fixed: replay one row from the page; it is delivered, the rest stay.
    meta.refusing = False
    page.get_by_role("button", name="Replay order-7 to Meta shop").click()
    sync_api.expect(page.locator(".flash").first).to_contain_text("queued again")
    wait_for(lambda: meta.received == ["order-7"])
    page.reload()
    sync_api.expect(page.locator("section", has=page.locator("#dead-title"))).not_to_contain_text(
        "order-7"
    )
    sent = api.get("/api/v1/deliveries", params={"status": "sent"}).json()["items"]
    assert [d["event_id"] for d in sent] == ["order-7"]
    assert "EAAB-browser-token" not in page.content()
    assert errors == []
    page.close()
