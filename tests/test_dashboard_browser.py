"""The dashboard in real headless Chromium against a real `firstmark serve`.

Chromium is Debian's /usr/bin/chromium driven by PyPI playwright (never `playwright install`);
screenshots go to tests/artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from serverproc import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "browser-test-password"
# A desktop browser's user agent: HeadlessChrome's own is counted as a bot, rightly.
UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
PHONE = {"width": 360, "height": 740}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium for a module's tests (and the screenshots folder they write to)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = ServerProcess(tmp_path_factory.mktemp("dashboard"))
    try:
        server.init(password=PASSWORD)
        base_url, _ = server.start()
        with chromium() as browser:
            yield {"browser": browser, "base_url": base_url, "server": server}
    finally:
        server.kill()


class Watch:
    """Script errors and console errors (a CSP violation is one) seen by a page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on(
            "console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None
        )


def log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/dashboard/links")
    assert "/dashboard/login" in page.url
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/dashboard/links")


def kpi(page: Any, name: str) -> str:
    return str(page.locator(f'[data-kpi="{name}"]').first.inner_text()).strip()


def test_log_in_build_a_link_click_it_and_see_the_click(world: dict[str, Any]) -> None:
    base_url = world["base_url"]
    context = world["browser"].new_context(user_agent=UA, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(page)
    log_in(page, base_url)

    page.get_by_role("link", name="New link").first.click()
    page.get_by_label("Destination URL").fill(f"{base_url}/healthz?from=poster#top")
    page.get_by_label("Short code").fill("spring1")
    page.get_by_label("utm_source").fill("Newsletter")
    page.get_by_label("utm_medium").fill("e-mail")
    page.get_by_label("utm_campaign").fill("Spring Sale")
    preview = page.locator("#final-url")
    expected = (
        f"{base_url}/healthz?from=poster&utm_source=newsletter&utm_medium=e-mail"
        "&utm_campaign=spring-sale#top"
    )
    sync_api.expect(preview).to_have_text(expected)  # the builder's live preview
    # Taxonomy notes appear next to the field while typing, before anything is saved.
    sync_api.expect(page.locator("#warn-utm_medium")).to_contain_text("email")
    described = page.get_by_label("utm_medium").get_attribute("aria-describedby") or ""
    assert "warn-utm_medium" in described.split()
    page.screenshot(path=str(ARTIFACTS / "dashboard-link-builder.png"), full_page=True)
    page.get_by_role("button", name="Create link").click()

    page.wait_for_url("**/edit")  # saved with notes: back on the form, notes by the fields
    sync_api.expect(page.locator(".flash").first).to_contain_text(f"{base_url}/spring1")
    sync_api.expect(page.locator("#warn-utm_medium")).to_contain_text("email")
    page.get_by_role("link", name="Back to the link").click()
    short = page.locator("#short-url").inner_text().strip()
    assert short == f"{base_url}/spring1"
    assert kpi(page, "clicks") == "0"

    visitor = context.new_page()
    visitor.goto(short)
    assert visitor.url.startswith(f"{base_url}/healthz?from=poster&utm_source=newsletter")
    assert "fm_click=" in visitor.url
    visitor.close()

    deadline = time.monotonic() + 10
    while kpi(page, "clicks") != "1" and time.monotonic() < deadline:
        time.sleep(0.2)
        page.reload()
    assert kpi(page, "clicks") == "1" and kpi(page, "uniques") == "1"
    page.screenshot(path=str(ARTIFACTS / "dashboard-link.png"), full_page=True)
    page.goto(f"{base_url}/dashboard")
    assert kpi(page, "clicks") == "1" and kpi(page, "links") == "1"
    page.screenshot(path=str(ARTIFACTS / "dashboard-overview.png"), full_page=True)
    assert watch.errors == []
    world["state"] = context.storage_state()
    context.close()


def test_add_a_tracking_number_and_release_it(world: dict[str, Any]) -> None:
    state = world.get("state")
    if state is None:
        pytest.skip("needs the logged-in session of the first test")
    context = world["browser"].new_context(user_agent=UA, storage_state=state)
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{world['base_url']}/dashboard")
    page.get_by_role("link", name="Numbers").click()
    page.get_by_label("Tracking number").fill("+44 20 7946 0100")
    page.get_by_label("Forward calls to").fill("+44 20 7946 0999")
    page.get_by_label("Label").fill("Poster Oslo S")
    page.get_by_label("Link", exact=True).fill("1")
    page.get_by_role("button", name="Add number").click()
    sync_api.expect(page.locator(".flash").first).to_contain_text("+44 20 7946 0100 added")
    row = page.locator('tr[data-number="+442079460100"]')
    sync_api.expect(row).to_contain_text("spring1")
    page.get_by_label("Tracking number").fill("+44 20 7946 0101")
    page.get_by_label("Forward calls to").fill("+44 20 7946 0999")
    page.get_by_label("Pool", exact=True).fill("web")
    page.get_by_role("button", name="Add number").click()
    sync_api.expect(page.locator('tr[data-pool="web"]')).to_contain_text("1")
    page.screenshot(path=str(ARTIFACTS / "dashboard-numbers.png"), full_page=True)
    questions: list[str] = []

    def yes(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", yes)
    page.get_by_role("button", name="Release +44 20 7946 0101").click()
    sync_api.expect(page.locator(".flash").first).to_contain_text("released")
    assert questions and questions[0].startswith("Release +44 20 7946 0101?")
    sync_api.expect(page.locator('tr[data-number="+442079460101"]')).to_have_count(0)
    page.get_by_role("link", name="Calls log").click()
    sync_api.expect(page.get_by_role("status")).to_contain_text("0 calls")
    assert watch.errors == []
    context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard", "/dashboard/links", "/dashboard/links/1", "/dashboard/links/new",
        "/dashboard/numbers", "/dashboard/calls",
    ],
)  # fmt: skip
def test_pages_fit_a_phone_screen(world: dict[str, Any], path: str) -> None:
    fits_a_phone(world, path)


def fits_a_phone(world: dict[str, Any], path: str) -> None:
    """Open `path` logged in at phone width: nothing sticks out sideways (wide tables scroll
    inside their own box), no script error; a screenshot for the record."""
    state = world.get("state")
    if state is None:
        pytest.skip("needs the logged-in session of the first test")
    context = world["browser"].new_context(
        user_agent=UA, viewport=PHONE, storage_state=state, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{world['base_url']}{path}")
    assert "/login" not in page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    name = path.strip("/").replace("/", "-")
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
    assert watch.errors == []
    context.close()


def test_login_and_a_form_work_from_the_keyboard(world: dict[str, Any]) -> None:
    context = world["browser"].new_context(user_agent=UA)
    page = context.new_page()
    page.goto(f"{world['base_url']}/dashboard/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the brand link, then the username field
    assert page.evaluate("document.activeElement.id") == "f-username"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus ring
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type("wrong password")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    sync_api.expect(page.locator("#login-error")).to_have_text("Wrong username or password.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{world['base_url']}/dashboard")
    # A bad form: the error summary takes focus and links to the field.
    page.goto(f"{world['base_url']}/dashboard/links/new")
    page.get_by_label("Destination URL").fill("javascript:alert(1)")
    page.get_by_label("Destination URL").press("Enter")
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "f-destination"
    sync_api.expect(page.locator("#err-destination")).to_contain_text("http or https")
    context.close()
