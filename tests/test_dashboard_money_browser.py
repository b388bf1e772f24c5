"""The dashboard's money pages and QR designer in real headless Chromium against a real
`firstmark serve`: build a link with UTM, design and download its QR code (decoded with
zxing-cpp), upload ad costs and watch the KPI cards change, see a wrong file's row errors.
Screenshots go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from qrtools import decode_png
from serverproc import ServerProcess
from test_dashboard_browser import (
    ARGS,
    ARTIFACTS,
    CHROMIUM,
    PASSWORD,
    UA,
    Watch,
    fits_a_phone,
    kpi,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
GOOD = (
    "date,source,medium,campaign,spend,currency,impressions,clicks\n"
    f"{YESTERDAY},newsletter,email,winter-sale,40.00,EUR,1000,20\n"
    f"{YESTERDAY},google,cpc,winter-sale,60.50,EUR,2000,50\n"
)
BAD = (
    "date,source,medium,campaign,spend,currency\n"
    f"{YESTERDAY},google,cpc,winter,10,EUR\n"
    "yesterday,google,cpc,winter,10,EUR\n"
    f"{YESTERDAY},google,cpc,winter,-5,EUR\n"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("money")
    server = ServerProcess(folder)
    try:
        done = server.cli("init", "--password", PASSWORD)
        assert done.returncode == 0, done.stderr
        server.api_key = done.stdout.strip()
        base_url, _ = server.start()
        ARTIFACTS.mkdir(exist_ok=True)
        (folder / "good.csv").write_text(GOOD)
        (folder / "bad.csv").write_text(BAD)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                yield {"browser": browser, "base_url": base_url, "folder": folder}
            finally:
                browser.close()
    finally:
        server.kill()


def _log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/dashboard")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/dashboard")


def test_link_qr_download_and_cost_upload(world: dict[str, Any]) -> None:
    base_url, folder = world["base_url"], world["folder"]
    context = world["browser"].new_context(
        user_agent=UA, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    watch = Watch(page)
    _log_in(page, base_url)
    assert kpi(page, "spend") == "—" and kpi(page, "cpc") == "—"

    # A link with UTM tags.
    page.goto(f"{base_url}/dashboard/links/new")
    page.get_by_label("Destination URL").fill(f"{base_url}/healthz")
    page.get_by_label("Short code").fill("winter1")
    page.get_by_label("utm_source").fill("newsletter")
    page.get_by_label("utm_medium").fill("email")
    page.get_by_label("utm_campaign").fill("Winter Sale")
    page.get_by_role("button", name="Create link").click()
    page.wait_for_load_state()
    if page.url.endswith("/edit"):  # saved with taxonomy notes
        page.get_by_role("link", name="Back to the link").click()
    sync_api.expect(page.locator("#short-url")).to_have_text(f"{base_url}/winter1")

    # The designer: the preview and the print check follow the form.
    page.get_by_label("Quiet zone (modules)").fill("2")
    sync_api.expect(page.locator('#qr-check [data-check="quiet_zone"]')).to_contain_text(
        "at least 4"
    )
    page.get_by_label("Quiet zone (modules)").fill("4")
    page.get_by_label("Scale (pixels a module)").fill("8")
    sync_api.expect(page.locator('#qr-check [data-check="ok"]')).to_be_visible()
    assert "scale=8" in (page.locator("#qr-preview").get_attribute("src") or "")
    page.get_by_label("Scale (pixels a module)").fill("0")
    sync_api.expect(page.locator('[data-error-for="scale"]')).to_contain_text("1 to 100")
    page.get_by_label("Scale (pixels a module)").fill("8")
    sync_api.expect(page.locator('[data-error-for="scale"]')).to_have_text("")
    page.locator("#qr").screenshot(path=str(ARTIFACTS / "dashboard-qr-designer.png"))
    with page.expect_download() as info:
        page.locator('.downloads [data-format="png"]').click()
    download = info.value
    assert download.suggested_filename == "winter1.png"
    png = Path(download.path()).read_bytes()
    assert decode_png(png) == [f"{base_url}/q/winter1"]

    # A wrong cost file: every row error beside the upload field, nothing imported.
    page.goto(f"{base_url}/dashboard/costs")
    page.get_by_label("Export file").set_input_files(str(folder / "bad.csv"))
    page.get_by_role("button", name="Import").click()
    page.wait_for_load_state()
    sync_api.expect(page.locator("#err-file")).to_contain_text("2 row(s) have errors")
    rows = page.locator("#row-errors tbody tr")
    sync_api.expect(rows).to_have_count(2)
    assert rows.nth(0).inner_text().split("\t")[:2] == ["3", "date"]
    assert rows.nth(1).inner_text().split("\t")[:2] == ["4", "spend"]
    page.screenshot(path=str(ARTIFACTS / "dashboard-costs-errors.png"), full_page=True)
    page.goto(f"{base_url}/dashboard")
    assert kpi(page, "spend") == "—"

    # A good one: the import is reported and the KPI cards change.
    page.goto(f"{base_url}/dashboard/costs")
    page.get_by_label("Export file").set_input_files(str(folder / "good.csv"))
    page.get_by_role("button", name="Import").click()
    sync_api.expect(page.locator("#import-result")).to_contain_text("2 cost row(s)")
    page.screenshot(path=str(ARTIFACTS / "dashboard-costs.png"), full_page=True)
    page.goto(f"{base_url}/dashboard")
    assert kpi(page, "spend") == "€100.50"
    assert kpi(page, "ctr") == "2.33 %" and kpi(page, "cpc") == "€1.44"
    page.screenshot(path=str(ARTIFACTS / "dashboard-overview-money.png"), full_page=True)

    page.goto(f"{base_url}/dashboard/reports/campaigns")
    sync_api.expect(page.locator("table.report")).to_contain_text("winter-sale")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    raw = Path(info.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that makes a spreadsheet read UTF-8
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("campaign,hits,humans")
    assert "winter-sale" in text
    # The refused scale and the refused file answered 422, as they should; nothing else.
    assert [e for e in watch.errors if "status of 422" not in e] == []
    assert len(watch.errors) == 2
    world["state"] = context.storage_state()
    context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/reports/campaigns",
        "/dashboard/attribution",
        "/dashboard/costs",
        "/dashboard/conversions",
        "/dashboard/links/1",
    ],
)
def test_new_pages_fit_a_phone_screen(world: dict[str, Any], path: str) -> None:
    fits_a_phone(world, path)
