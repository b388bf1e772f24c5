"""The API reference page /api/v1/docs in real headless Chromium against a real server: it
renders every operation from the document, with no script error and no CSP violation."""

from __future__ import annotations

from pathlib import Path

import pytest

from serverproc import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


def test_the_reference_page_lists_every_operation(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    try:
        base_url, _ = server.start()
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = browser.new_page()
                problems: list[str] = []
                page.on("pageerror", lambda exc: problems.append(str(exc)))
                page.on(
                    "console",
                    lambda msg: problems.append(msg.text) if msg.type == "error" else None,
                )
                page.goto(f"{base_url}/api/v1/docs")
                sync_api.expect(page.locator("h1")).to_contain_text("firstmark API")
                operations = page.locator("section.op")
                sync_api.expect(operations.first).to_be_visible()
                assert operations.count() >= 60
                links = page.locator("#create_link")
                sync_api.expect(links).to_contain_text("/api/v1/links")
                sync_api.expect(links).to_contain_text("destination (required)")
                sync_api.expect(links).to_contain_text("links:write")
                assert problems == []
            finally:
                browser.close()
    finally:
        server.kill()
