"""Destinations in real headless Chromium against a real `firstmark serve`: add one from the
dashboard, and Connect Google through a fake Google (consent page and token endpoint) on
loopback, the browser following the redirects both ways."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakeoauth import CLIENT_ID, CLIENT_SECRET, FakeGoogle
from serverproc import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "browser-test-password"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with FakeGoogle(time.time) as google:
        env = {
            "FIRSTMARK_OAUTH_GOOGLE_AUTH_URL": f"{google.url}/auth",
            "FIRSTMARK_OAUTH_GOOGLE_TOKEN_URL": google.token_url,
            "FIRSTMARK_DESTINATION_ALLOW_PRIVATE": "true",  # the fake Google is on loopback
        }
        server = ServerProcess(tmp_path_factory.mktemp("destinations"), env=env)
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
                    yield {"browser": browser, "base_url": base_url, "api": api,
                           "google": google}  # fmt: skip
                finally:
                    browser.close()
                    api.close()
        finally:
            server.kill()


def test_add_a_destination_and_connect_google(world: dict[str, Any]) -> None:
    base_url, api = world["base_url"], world["api"]
    google: FakeGoogle = world["google"]
    page = world["browser"].new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base_url}/dashboard/destinations")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/dashboard/destinations")
    page.get_by_label("Platform", exact=True).select_option("google_ads")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Name", exact=True).fill("Google shop")
    page.get_by_label("operating_account_id (required)").fill("123-456-7890")
    page.get_by_label("client_id", exact=True).fill(CLIENT_ID)
    page.get_by_label("client_secret", exact=True).fill(CLIENT_SECRET)
    page.get_by_label("purchase", exact=True).fill("555")
    page.get_by_label("Endpoint base URL").fill(google.url)
    page.get_by_role("button", name="Add destination").click()
    sync_api.expect(page.locator(".flash").first).to_contain_text("Google shop added")
    sync_api.expect(page.get_by_role("alert").last).to_contain_text("Needs re-authorisation")
    # Connect: to Google's consent page and back, following the redirects.
    page.get_by_role("button", name="Connect with Google Ads").click()
    sync_api.expect(page.locator(".flash").first).to_contain_text("Google shop connected")
    sync_api.expect(page.get_by_text("Credentials working (refresh token)")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "dashboard-destination.png"), full_page=True)
    [dest] = api.get("/api/v1/destinations").json()["items"]
    assert dest["auth"]["status"] == "ok" and dest["credentials"]["refresh_token"] == "set"
    assert dest["goals"] == {"purchase": "555"}
    [grant] = [g for g in google.grants if g["grant_type"] == "authorization_code"]
    assert grant["redirect_uri"] == f"{base_url}/dashboard/destinations/oauth/callback"
    # Back on the list, disable it.
    page.goto(f"{base_url}/dashboard/destinations")
    page.get_by_role("button", name="Disable Google shop").click()
    sync_api.expect(page.locator(".flash").first).to_contain_text("Google shop disabled")
    assert api.get("/api/v1/destinations").json()["items"][0]["enabled"] is False
    assert errors == []
    page.close()
