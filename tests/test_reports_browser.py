"""The report pages in real headless Chromium against a real `firstmark serve` filled by
`firstmark demo`: at 1280 px every money KPI is on screen without scrolling sideways, at
390 px nothing sticks out; presets keep the range from page to page; a short URL copies.
Screenshots of Overview, Reports and Web at both widths go to tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from serverproc import ServerProcess
from test_dashboard_browser import ARTIFACTS, CHROMIUM, PASSWORD, UA, Watch, chromium

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
MONEY = ("spend", "revenue", "roas", "roi", "cpa", "conversion_rate")
# (screenshot name, path, the money KPI elements the page shows)
PAGES = [
    ("overview", "/dashboard", [f'[data-kpi="{k}"]' for k in MONEY]),
    ("reports-campaigns", "/dashboard/reports/campaigns", [f'[data-col="{k}"]' for k in MONEY]),
    ("reports-channels", "/dashboard/reports/channels", [f'[data-col="{k}"]' for k in MONEY]),
    ("reports-links", "/dashboard/reports/links", [f'[data-col="{k}"]' for k in MONEY]),
    ("attribution", "/dashboard/attribution", ["[data-revenue]"]),
    ("web", "/dashboard/web/1", ['[data-kpi="conversion_rate"]', '[data-kpi="conversions"]']),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = ServerProcess(tmp_path_factory.mktemp("reports"))
    try:
        server.init(password=PASSWORD)
        demo = server.cli("demo", timeout=300)
        assert demo.returncode == 0, demo.stderr
        base_url, _ = server.start()
        with chromium() as browser:
            context = browser.new_context(user_agent=UA)
            page = context.new_page()
            page.goto(f"{base_url}/dashboard")
            page.get_by_label("Username").fill("admin")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{base_url}/dashboard")
            state = context.storage_state()
            context.close()
            yield {"browser": browser, "base_url": base_url, "state": state}
    finally:
        server.kill()


def _open(world: dict[str, Any], viewport: dict[str, int], **options: Any) -> Any:
    return world["browser"].new_context(
        user_agent=UA, viewport=viewport, storage_state=world["state"], **options
    )


def _outside(page: Any, selector: str) -> list[str]:
    """The elements matching `selector` whose box is not wholly inside the viewport
    sideways, or that a scrolling box around them hides."""
    found: list[str] = page.evaluate(
        """(selector) => {
          const out = [];
          for (const el of document.querySelectorAll(selector)) {
            const box = el.getBoundingClientRect();
            const shown = el.outerHTML.slice(0, 80);
            if (box.left < 0 || box.right > window.innerWidth) out.push(shown);
            const box2 = el.closest(".scroll");
            if (box2 && box2.scrollWidth > box2.clientWidth) out.push("scrolls: " + shown);
          }
          return out;
        }""",
        selector,
    )
    return found


@pytest.mark.parametrize(("name", "path", "kpis"), PAGES, ids=[p[0] for p in PAGES])
def test_money_kpis_are_on_screen_at_1280(
    world: dict[str, Any], name: str, path: str, kpis: list[str]
) -> None:
    context = _open(world, DESKTOP)
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{world['base_url']}{path}")
    assert "/login" not in page.url
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for selector in kpis:
        assert page.locator(selector).count() > 0, selector
        assert _outside(page, selector) == []
    page.screenshot(path=str(ARTIFACTS / f"reports-1280-{name}.png"), full_page=True)
    assert watch.errors == []
    context.close()


@pytest.mark.parametrize(("name", "path", "kpis"), PAGES, ids=[p[0] for p in PAGES])
def test_report_pages_fit_a_phone(
    world: dict[str, Any], name: str, path: str, kpis: list[str]
) -> None:
    context = _open(world, PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{world['base_url']}{path}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator(kpis[0]).first.is_visible()
    page.screenshot(path=str(ARTIFACTS / f"reports-390-{name}.png"), full_page=True)
    assert watch.errors == []
    context.close()


def test_the_range_carries_over_between_report_pages(world: dict[str, Any]) -> None:
    base_url = world["base_url"]
    context = _open(world, DESKTOP)
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{base_url}/dashboard/reports/campaigns")
    page.get_by_role("link", name="7 days", exact=True).click()
    today = datetime.now(UTC).date()
    week = (today - timedelta(days=6)).isoformat()
    page.wait_for_url(f"**/dashboard/reports/campaigns?from={week}&to={today.isoformat()}")
    sync_api.expect(page.get_by_role("link", name="7 days", exact=True)).to_have_attribute(
        "aria-current", "true"
    )
    page.locator(".tabs").get_by_role("link", name="Channels").click()  # a tab keeps it
    assert f"from={week}" in page.url and "/reports/channels" in page.url
    page.locator(".nav").get_by_role("link", name="Overview").click()  # so does the menu
    page.wait_for_url(f"**/dashboard?from={week}*")
    assert page.get_by_label("From", exact=True).input_value() == week
    # Columns are chosen without JavaScript's help: a form in a <details>, kept in the URL.
    page.goto(f"{base_url}/dashboard/reports/campaigns?from={week}&to={today.isoformat()}")
    page.get_by_text("Columns", exact=True).click()
    page.get_by_label("Impr.").check()
    page.get_by_label("Clicks", exact=True).uncheck()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**cols=*")
    assert f"from={week}" in page.url and "cols=impressions" in page.url
    assert page.locator('thead [data-col="impressions"]').count() == 1
    assert page.locator('thead [data-col="clicks"]').count() == 0
    assert watch.errors == []
    context.close()


def test_copy_a_short_url(world: dict[str, Any]) -> None:
    context = _open(world, DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=world["base_url"])
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{world['base_url']}/dashboard/links/1")
    short = page.locator("#short-url").inner_text().strip()
    button = page.get_by_role("button", name=f"Copy {short}")
    button.click()
    sync_api.expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == short
    sync_api.expect(page.get_by_role("status")).to_have_text(f"Copied {short}")
    assert watch.errors == []
    context.close()


def test_copy_buttons_stay_hidden_without_javascript(world: dict[str, Any]) -> None:
    context = _open(world, DESKTOP, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{world['base_url']}/dashboard/links")
    assert page.locator("button[data-copy]").count() > 0
    assert not page.locator("button[data-copy]").first.is_visible()
    first = page.locator("table.links tbody th a").first  # the URL is there to select
    assert first.is_visible() and first.inner_text().startswith(world["base_url"])
    context.close()
