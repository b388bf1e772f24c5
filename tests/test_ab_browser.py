"""An A/B link in real headless Chromium against a real `firstmark serve`: the variants editor,
a visitor kept on one variant, the report table with its p-value column, and Promote."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from serverproc import ServerProcess
from test_dashboard_browser import (
    ARTIFACTS,
    CHROMIUM,
    PASSWORD,
    PHONE,
    UA,
    Watch,
    chromium,
    log_in,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = ServerProcess(tmp_path_factory.mktemp("ab"))
    try:
        server.init(password=PASSWORD)
        base_url, _ = server.start()
        with chromium() as browser:
            yield {"browser": browser, "base_url": base_url}
    finally:
        server.kill()


def test_split_a_link_see_the_variants_and_promote_one(world: dict[str, Any]) -> None:
    base_url = world["base_url"]
    context = world["browser"].new_context(user_agent=UA, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(page)
    log_in(page, base_url)

    page.goto(f"{base_url}/dashboard/links/new")
    page.get_by_label("Short code").fill("ab")
    page.get_by_label("Variants").fill(f"{base_url}/healthz?v=a=1\n{base_url}/healthz?v=b=1")
    page.get_by_role("button", name="Create link").click()
    page.wait_for_url("**/dashboard/links/*")
    short = page.locator("#short-url").inner_text().strip()

    visitor = context.new_page()
    visitor.goto(short)
    first = visitor.url.split("v=", 1)[1][0]
    assert first in "ab" and "fm_click=" in visitor.url
    visitor.goto(short)
    assert visitor.url.split("v=", 1)[1][0] == first  # the same visitor keeps the variant
    visitor.close()

    table = page.locator("#ab-table")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        page.reload()
        cells = page.locator("#ab-table tr[data-variant] td.num:nth-child(4)").all_inner_texts()
        if sum(int(c) for c in cells) == 2:
            break
        time.sleep(0.2)
    sync_api.expect(table.locator("tr[data-variant]")).to_have_count(2)
    sync_api.expect(table.locator("thead")).to_contain_text("p-value")
    sync_api.expect(table.locator('tr[data-variant="1"]')).to_contain_text("fewer than 100")
    page.screenshot(path=str(ARTIFACTS / "dashboard-ab.png"), full_page=True)

    page.get_by_role("button", name="Promote variant 1").click()
    sync_api.expect(page.locator(".flash").first).to_contain_text("Variant 1")
    sync_api.expect(page.locator("#ab-title")).to_contain_text("ended")
    sync_api.expect(page.get_by_role("button", name="Promote variant 0")).to_have_count(0)
    visitor = context.new_page()
    visitor.goto(short)
    assert "v=b" in visitor.url
    visitor.close()

    phone = world["browser"].new_context(
        user_agent=UA, viewport=PHONE, storage_state=context.storage_state(), is_mobile=True
    )
    small = phone.new_page()
    small.goto(page.url)
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.close()
    assert watch.errors == []
    context.close()
