"""The Privacy and Audit log pages in real headless Chromium against a real `firstmark serve`:
consent shares from real events, an export downloaded, an erasure confirmed, the audit log."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from serverproc import ServerProcess
from test_dashboard_browser import ARGS, ARTIFACTS, CHROMIUM, PASSWORD, PHONE, UA, Watch

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

EMAIL = "dana.buyer@example.com"
GRANTED = {"analytics_storage": "granted", "ad_storage": "granted", "ad_user_data": "granted"}


def seed(base_url: str, key: str) -> None:
    """A consenting buyer (two pages, then an order with her e-mail) and a visitor without
    consent, through the real endpoints."""
    auth = {"authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, timeout=10) as http:
        site = http.post("/api/v1/sites", json={"hosts": ["shop.example"]}, headers=auth)
        assert site.status_code == 201, site.text
        goal = http.post("/api/v1/goals", json={"name": "purchase"}, headers=auth)
        assert goal.status_code == 201, goal.text
        headers = {"origin": "https://shop.example", "user-agent": UA,
                   "content-type": "text/plain;charset=UTF-8"}  # fmt: skip
        for body in (
            {"vid": "dana-visitor-01", "sid": "dana-visit-01", "consent": GRANTED,
             "url": "https://shop.example/"},
            {"vid": "dana-visitor-01", "sid": "dana-visit-01", "consent": GRANTED,
             "url": "https://shop.example/cart"},
            {"url": "https://shop.example/"},
        ):  # fmt: skip
            # Another browser for the visitor without consent: one address and browser share
            # a day's hash, and an erasure treats that day's rows as hers.
            agent = UA if "vid" in body else UA.replace("130.0", "129.0")
            sent = http.post("/e", content=json.dumps({"site": site.json()["key"], **body}),
                             headers={**headers, "user-agent": agent})  # fmt: skip
            assert sent.status_code == 202, sent.text
        order = http.post(
            "/api/v1/conversions",
            json={"event_id": "order-dana-1", "goal": "purchase", "visitor_id": "dana-visitor-01",
                  "user_data": {"email": EMAIL}, "value": 80, "currency": "EUR",
                  "consent": {"analytics_storage": "granted", "ad_user_data": "granted"}},
            headers=auth,
        )  # fmt: skip
        assert order.status_code == 201, order.text
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the event writer flushes within moments
            shown = http.get("/api/v1/privacy/consent", headers=auth).json()
            if shown["observed"]["visits"] == 2:
                return
            time.sleep(0.1)
        raise AssertionError(f"the events never showed: {shown}")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = ServerProcess(tmp_path_factory.mktemp("privacy"))
    try:
        done = server.cli("init", "--password", PASSWORD)
        assert done.returncode == 0, done.stderr
        server.api_key = done.stdout.strip()
        base_url, key = server.start()
        seed(base_url, key)
        ARTIFACTS.mkdir(exist_ok=True)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                yield {"browser": browser, "base_url": base_url, "key": key}
            finally:
                browser.close()
    finally:
        server.kill()


def log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/dashboard/privacy")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/dashboard/privacy")


def cell(page: Any, state: str, column: int) -> str:
    return str(page.locator(f'tr[data-state="{state}"] td').nth(column).inner_text()).strip()


def test_consent_export_erase_and_the_audit_log(world: dict[str, Any]) -> None:
    base_url = world["base_url"]
    context = world["browser"].new_context(
        user_agent=UA, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    watch = Watch(page)
    log_in(page, base_url)

    # One visit with analytics and ads consent, one without: half each; the order is hers.
    sync_api.expect(page.get_by_role("heading", name="Consent by state")).to_be_visible()
    assert (cell(page, "full", 0), cell(page, "full", 1)) == ("1", "50.0%")
    assert (cell(page, "none", 0), cell(page, "none", 1)) == ("1", "50.0%")
    assert (cell(page, "full", 2), cell(page, "full", 5)) == ("1", "1")  # with hashed user data
    assert cell(page, "gpc", 0) == "0"
    modelled = page.locator("section.modelled")
    sync_api.expect(modelled).to_contain_text("modelled, not counted")
    sync_api.expect(page.locator("#modelled-conversions")).to_contain_text("About 2.0 conversions")
    sync_api.expect(page.get_by_role("heading", name="Retention")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "privacy.png"), full_page=True)

    # Export by e-mail: a JSON download with her rows.
    page.get_by_label("Identifier").select_option("email")
    page.get_by_label("Value").fill(EMAIL)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export (JSON)").click()
    doc = json.loads(Path(download.value.path()).read_text())
    assert {c["event_id"] for c in doc["tables"]["conversions"]} == {"order-dana-1"}
    assert {e["visitor_id"] for e in doc["tables"]["events"]} == {"dana-visitor-01"}

    # Erase needs the box ticked; then it runs.
    page.get_by_label("Value").fill(EMAIL)
    page.get_by_role("button", name="Erase").click()
    sync_api.expect(page.locator("#err-confirm")).to_contain_text("cannot be undone")
    assert watch.errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]  # the refused form's status, as intended
    watch.errors.clear()
    page.get_by_label("Identifier").select_option("email")
    page.get_by_label("Value").fill(EMAIL)
    page.get_by_label("I understand erasure cannot be undone").check()
    page.get_by_role("button", name="Erase").click()
    page.wait_for_url(f"{base_url}/dashboard/privacy")
    sync_api.expect(page.locator(".flash")).to_contain_text("Erased")
    # The reports keep their totals: the visit and the order still count.
    assert cell(page, "full", 0) == "1"

    # Nothing of hers is left for an export to find.
    with httpx.Client(base_url=base_url, timeout=10) as http:
        again = http.post(
            "/api/v1/privacy/export",
            json={"kind": "visitor_id", "value": "dana-visitor-01"},
            headers={"authorization": f"Bearer {world['key']}"},
        )
    assert again.status_code == 200 and again.json()["tables"] == {}

    # The audit log names the user and the kind of identifier, never the address.
    page.get_by_role("link", name="Audit log", exact=True).click()
    page.wait_for_url(f"{base_url}/dashboard/audit")
    rows = page.locator("table.audit tbody tr")
    sync_api.expect(rows.first).to_contain_text("export")  # the API's, by the admin key
    assert "key:" in rows.first.inner_text()
    sync_api.expect(rows.nth(1)).to_contain_text("erase")
    assert "user:admin" in rows.nth(1).inner_text()
    assert EMAIL not in page.content() and "dana" not in page.content()
    page.get_by_label("Object").select_option("privacy")
    page.get_by_role("button", name="Show").click()
    sync_api.expect(rows).to_have_count(3)  # erase, export by the form, export by the API
    assert watch.errors == []
    context.close()


@pytest.mark.parametrize("path", ["/dashboard/privacy", "/dashboard/audit"])
def test_the_pages_fit_a_phone_screen(world: dict[str, Any], path: str) -> None:
    base_url = world["base_url"]
    context = world["browser"].new_context(user_agent=UA, viewport=PHONE)
    page = context.new_page()
    watch = Watch(page)
    log_in(page, base_url)
    page.goto(f"{base_url}{path}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1
    assert watch.errors == []
    context.close()
