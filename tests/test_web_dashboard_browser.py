"""The whole journey in real headless Chromium: a site with the snippet, three visitors, the Web
overview and the attribution page of a real `firstmark serve`.

A visitor finds the shop in a ChatGPT answer, comes back later by typing the address and buys;
another clicks a Google Ads ad (gclid, no short link); a third comes direct. In the dashboard's
Web section they show up under AI Assistants, Paid Search and Direct, a click on a channel
narrows the page to it, and the attribution page credits the purchase to AI Assistants in
last-touch and shares it with the direct return visit in the other models.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from serverproc import ServerProcess
from test_browser import ARGS, CHROMIUM, NOT_WEBDRIVER, Site, page_html
from test_dashboard_browser import ARTIFACTS, PASSWORD, Watch, fits_a_phone, kpi

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

# Three desktop browsers: without consent a visitor is the day's hash of address and browser,
# and the test site sends every request from one address.
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0"
)
MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = ServerProcess(
        tmp_path_factory.mktemp("webdash"), env={"FIRSTMARK_TRUSTED_PROXIES": "127.0.0.1"}
    )
    try:
        done = server.cli("init", "--password", PASSWORD)
        assert done.returncode == 0, done.stderr
        server.api_key = done.stdout.strip()
        base_url, api_key = server.start()
        auth = {"authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=base_url, headers=auth, timeout=10) as api:
            made = api.post("/api/v1/sites", json={"hosts": ["127.0.0.1"]})
            assert made.status_code == 201, made.text
            site = made.json()
            goal = {"name": "purchase", "currency": "EUR"}
            assert api.post("/api/v1/goals", json=goal).status_code == 201
            with Site(server.port or 0) as shop:
                shop.pages["/"] = page_html(site["key"], consent=True)
                shop.pages["/shoes"] = page_html(site["key"], consent=False)
                shop.pages["/home"] = page_html(site["key"], consent=False)
                shop.pages["/favicon.ico"] = ""  # no 404 in the console
                ARTIFACTS.mkdir(exist_ok=True)
                with sync_api.sync_playwright() as pw:
                    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
                    try:
                        yield {"browser": browser, "shop": shop, "api": api,
                               "site_id": site["id"], "base_url": base_url}  # fmt: skip
                    finally:
                        browser.close()
    finally:
        server.kill()


def visitor(world: dict[str, Any], agent: str, state: Any = None) -> tuple[Any, Any, Watch]:
    context = world["browser"].new_context(user_agent=agent, storage_state=state)
    context.add_init_script(NOT_WEBDRIVER)  # a person's browser, not an automated one
    page = context.new_page()
    return context, page, Watch(page)


def visits(world: dict[str, Any]) -> int:
    answer = world["api"].get("/api/v1/web/overview", params={"site": world["site_id"]})
    return int(answer.json()["totals"]["visits"])


def cells(page: Any, selector: str) -> dict[str, str]:
    """A table row's cells by their data-col (or data-model) name."""
    row = page.locator(selector)
    names = row.locator("td[data-col], td[data-model]")
    out = {}
    for i in range(names.count()):
        cell = names.nth(i)
        name = cell.get_attribute("data-col") or cell.get_attribute("data-model")
        out[str(name)] = str(cell.inner_text()).strip()
    return out


def test_three_visitors_show_up_under_their_channels_and_the_purchase_is_credited(
    world: dict[str, Any],
) -> None:
    shop = world["shop"].url
    # 1. Found in a ChatGPT answer: the page opens with chatgpt.com as its referrer.
    context, page, watch = visitor(world, CHROME)
    page.goto(f"{shop}/", referer="https://chatgpt.com/")
    wait_until(lambda: visits(world) == 1)
    state = context.storage_state()  # the visitor id the page kept (analytics consent)
    context.close()
    # ... comes back in a new session by typing the address, and buys.
    context, page, again = visitor(world, CHROME, state)
    page.goto(f"{shop}/")
    wait_until(lambda: visits(world) == 2)
    page.click("#buy")
    sync_api.expect(page.locator("#h")).to_have_text("bought")
    wait_until(lambda: world["api"].get("/api/v1/conversions").json()["items"] != [])
    context.close()
    # 2. A Google Ads click: gclid on the landing, no short link, no consent.
    context, page, ads = visitor(world, WINDOWS)
    page.goto(f"{shop}/shoes?gclid=Cj0KCQiA-browser-test")
    wait_until(lambda: visits(world) == 3)
    context.close()
    # 3. Direct: no referrer, no tags.
    context, page, direct = visitor(world, MAC)
    page.goto(f"{shop}/home")
    wait_until(lambda: visits(world) == 4)
    context.close()
    assert watch.errors == again.errors == ads.errors == direct.errors == []

    # The Web overview in the dashboard.
    base_url = world["base_url"]
    context = world["browser"].new_context(
        user_agent=CHROME, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{base_url}/dashboard/web")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/dashboard/web")
    page.get_by_role("link", name="127.0.0.1").click()
    page.wait_for_url(f"{base_url}/dashboard/web/{world['site_id']}")
    assert (kpi(page, "visitors"), kpi(page, "visits")) == ("3", "4")
    assert kpi(page, "conversions") == "1" and kpi(page, "realtime") == "3"
    channels = page.locator('[data-panel="channels"]')
    keys = channels.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.key)")
    assert sorted(keys) == ["AI Assistants", "Direct", "Paid Search"]
    by_channel = {
        name: cells(page, f'[data-panel="channels"] tr[data-key="{name}"]')["visitors"]
        for name in ("AI Assistants", "Paid Search", "Direct")
    }
    assert by_channel == {"AI Assistants": "1", "Paid Search": "1", "Direct": "2"}
    assert channels.locator("tbody tr").count() == 3
    sources = page.locator('[data-panel="sources"]')
    sync_api.expect(sources.locator('tr[data-key="chatgpt.com"]')).to_have_count(1)
    sync_api.expect(sources.locator('tr[data-key="google"]')).to_have_count(1)
    goals = cells(page, '[data-panel="goals"] tr[data-key="purchase"]')
    assert goals["conversions"] == "1" and goals["conversion_rate"] == "33.3"
    page.screenshot(path=str(ARTIFACTS / "web-overview.png"), full_page=True)

    # A click on a row narrows the page to that channel; the chip takes it off again.
    channels.get_by_role("link", name="Paid Search").click()
    sync_api.expect(page.locator('[data-filter="channel"]')).to_contain_text("Paid Search")
    assert "channel=Paid+Search" in page.url
    assert (kpi(page, "visitors"), kpi(page, "visits")) == ("1", "1")
    pages = page.locator('[data-panel="pages"] tbody tr')
    assert pages.count() == 1 and pages.first.get_attribute("data-key") == "/shoes"
    page.screenshot(path=str(ARTIFACTS / "web-filtered.png"), full_page=True)
    page.get_by_role("link", name="Remove filter Channel Paid Search").click()
    sync_api.expect(page.locator('[data-filter="channel"]')).to_have_count(0)
    assert kpi(page, "visits") == "4"

    # Attribution by channel: last-touch to AI Assistants, shared in the other models.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Attribution").click()
    page.get_by_label("Group by").select_option("channel")
    page.get_by_role("button", name="Show").click()
    sync_api.expect(page.locator('tr[data-key="AI Assistants"]')).to_have_count(1)
    ai = cells(page, 'tr[data-key="AI Assistants"]')
    direct_row = cells(page, 'tr[data-key="Direct"]')
    assert ai["last_non_direct"] == "1.00" and direct_row["last_non_direct"] == "0.00"
    assert ai["first_touch"] == "1.00"
    for model in ("linear", "position_based"):
        assert ai[model] == direct_row[model] == "0.50"
    assert 0 < float(ai["time_decay"]) < 1
    assert float(ai["time_decay"]) + float(direct_row["time_decay"]) == pytest.approx(1, abs=0.01)
    page.screenshot(path=str(ARTIFACTS / "web-attribution.png"), full_page=True)
    assert watch.errors == []
    world["state"] = context.storage_state()
    context.close()


@pytest.mark.parametrize("path", ["/dashboard/web", "/dashboard/web/1", "/dashboard/channels"])
def test_the_new_pages_fit_a_phone_screen(world: dict[str, Any], path: str) -> None:
    fits_a_phone(world, path)
