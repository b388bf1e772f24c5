"""Sites, API keys and the questions before destructive actions in real headless Chromium
against a real `firstmark serve`.

A site owner adds a site, copies its snippet with the button, pastes it into a page of the
shop, and the Sites page (left open) turns from "waiting" to "received" by itself. A new API
key is copied once and revoked after the browser's question; archiving asks, a "no" changes
nothing, and without JavaScript the confirm page asks instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from serverproc import ServerProcess
from test_browser import NOT_WEBDRIVER, Site
from test_dashboard_browser import ARGS, ARTIFACTS, CHROMIUM, PASSWORD, UA, Watch, fits_a_phone

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

# The shop's pages come from a loopback server under a real-looking name: fm.js stays silent
# on localhost pages, as it should on a developer's machine.
SHOP = "shop.example"
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = ServerProcess(tmp_path_factory.mktemp("admin"))
    try:
        server.init(password=PASSWORD)
        base_url, key = server.start()
        ARTIFACTS.mkdir(exist_ok=True)
        with (
            httpx.Client(base_url=base_url, headers={"authorization": f"Bearer {key}"}) as api,
            Site(server.port or 0) as shop,
            sync_api.sync_playwright() as pw,
        ):
            rules = f"--host-resolver-rules=MAP {SHOP} 127.0.0.1"
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=[*ARGS, rules])
            try:
                yield {"browser": browser, "base_url": base_url, "api": api, "shop": shop}
            finally:
                browser.close()
    finally:
        server.kill()


def logged_in(world: dict[str, Any], **options: Any) -> tuple[Any, Any, Watch]:
    """A desktop page logged in to the dashboard (the first one logs in; the others reuse its
    session)."""
    base_url = world["base_url"]
    context = world["browser"].new_context(
        user_agent=UA, viewport=DESKTOP, storage_state=world.get("state"), **options
    )
    page = context.new_page()
    watch = Watch(page)
    if "state" not in world:
        page.goto(f"{base_url}/dashboard")
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base_url}/dashboard")
        world["state"] = context.storage_state()
    return context, page, watch


def test_add_a_site_paste_its_snippet_and_see_the_first_event_arrive(
    world: dict[str, Any],
) -> None:
    base_url = world["base_url"]
    context, page, watch = logged_in(world)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page.goto(f"{base_url}/dashboard")
    page.get_by_role("link", name="Sites").click()
    page.get_by_label("Host names").fill(SHOP)
    page.get_by_label("Name", exact=True).fill("Shop")
    page.get_by_role("button", name="Add site").click()
    sync_api.expect(page.locator(".flash").first).to_contain_text("Site Shop added")
    status = page.locator("[data-site-status]")
    sync_api.expect(status).to_contain_text("Waiting for the first event")
    page.get_by_role("button", name="Copy the snippet of Shop").click()
    sync_api.expect(page.locator(".copy-state").first).to_have_text("Copied.")
    pasted = page.evaluate("navigator.clipboard.readText()")
    [site] = world["api"].get("/api/v1/sites").json()["items"]
    assert pasted == site["snippet"] and f'data-site="{site["key"]}"' in pasted
    page.screenshot(path=str(ARTIFACTS / "dashboard-sites-waiting.png"), full_page=True)

    # The owner pastes it into the shop's page; a visitor opens the page.
    shop = world["shop"]
    shop.pages["/"] = f"<!doctype html><html><head><title>Shop</title>{pasted}</head><body>hi"
    shop.pages["/favicon.ico"] = ""
    visitor = world["browser"].new_context(user_agent=UA)
    visitor.add_init_script(NOT_WEBDRIVER)  # a person's browser, not an automated one
    visit = visitor.new_page()
    visit.goto(f"http://{SHOP}:{shop.port}/")
    # The Sites page, left open, notices by itself.
    sync_api.expect(status).to_contain_text("Received: the latest event arrived", timeout=20_000)
    sync_api.expect(status).to_have_class("site-status received")
    page.screenshot(path=str(ARTIFACTS / "dashboard-sites-received.png"), full_page=True)
    visitor.close()
    assert watch.errors == []
    context.close()


def test_a_new_key_is_copied_once_and_revoked_after_the_question(world: dict[str, Any]) -> None:
    base_url = world["base_url"]
    context, page, watch = logged_in(world)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page.goto(f"{base_url}/dashboard/keys")
    page.get_by_label("Name", exact=True).fill("reporting")
    page.get_by_label("reports:read").check()
    page.get_by_role("button", name="Create key").click()
    page.get_by_role("button", name="Copy key").click()
    sync_api.expect(page.locator("#new-key-state")).to_have_text("Copied.")
    key = page.evaluate("navigator.clipboard.readText()")
    assert key == page.get_by_label("API key").input_value() and key.startswith("fm_")
    with httpx.Client(base_url=base_url, headers={"authorization": f"Bearer {key}"}) as api:
        assert api.get("/api/v1/stats", params={"group_by": "campaign"}).status_code == 200
        prefix = key.split("_")[1]
        revoke = page.get_by_role("button", name=f"Revoke fm_{prefix}")
        questions: list[str] = []

        def answer(dialog: Any, yes: bool) -> None:
            questions.append(dialog.message)
            if yes:
                dialog.accept()
            else:
                dialog.dismiss()

        page.once("dialog", lambda d: answer(d, False))
        revoke.click()
        assert questions and questions[0].startswith(f"Revoke fm_{prefix}_… (reporting)?")
        assert api.get("/api/v1/stats", params={"group_by": "campaign"}).status_code == 200
        page.once("dialog", lambda d: answer(d, True))
        revoke.click()
        sync_api.expect(page.locator(".flash").first).to_contain_text(f"Revoked fm_{prefix}_")
        assert api.get("/api/v1/stats", params={"group_by": "campaign"}).status_code == 401
    assert key not in page.content()  # shown once
    assert watch.errors == []
    context.close()


def test_archive_asks_a_no_keeps_the_link_and_unarchive_brings_it_back(
    world: dict[str, Any],
) -> None:
    base_url, api = world["base_url"], world["api"]
    made = api.post("/api/v1/links", json={"destination": f"{base_url}/healthz", "code": "fair"})
    assert made.status_code == 201, made.text
    link_id = made.json()["id"]
    context, page, watch = logged_in(world)
    page.goto(f"{base_url}/dashboard/links/{link_id}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Archive").click()
    page.wait_for_timeout(300)  # a "no" sends nothing
    assert page.url == f"{base_url}/dashboard/links/{link_id}"
    assert api.get(f"/api/v1/links/{link_id}").json()["archived"] is False
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Archive").click()
    sync_api.expect(page.locator(".flash").first).to_contain_text("Archived fair")
    assert api.get(f"/api/v1/links/{link_id}").json()["archived"] is True
    page.goto(f"{base_url}/dashboard/links?archived=true")
    page.get_by_role("link", name="fair").first.click()
    page.get_by_role("button", name="Unarchive").click()
    sync_api.expect(page.locator(".flash").first).to_contain_text("Unarchived fair")
    assert api.get(f"/api/v1/links/{link_id}").json()["archived"] is False
    assert watch.errors == []
    context.close()


def test_without_javascript_the_confirm_page_asks_and_works_by_keyboard(
    world: dict[str, Any],
) -> None:
    base_url, api = world["base_url"], world["api"]
    made = api.post("/api/v1/links", json={"destination": f"{base_url}/healthz", "code": "nojs"})
    link_id = made.json()["id"]
    context, page, _ = logged_in(world, java_script_enabled=False)
    page.goto(f"{base_url}/dashboard/links/{link_id}")
    page.get_by_role("button", name="Archive").click()
    sync_api.expect(page.get_by_role("heading", level=1)).to_have_text("Archive nojs?")
    assert api.get(f"/api/v1/links/{link_id}").json()["archived"] is False
    page.screenshot(path=str(ARTIFACTS / "dashboard-confirm.png"), full_page=True)
    page.get_by_role("button", name="Archive nojs").focus()
    page.keyboard.press("Enter")
    sync_api.expect(page.locator(".flash").first).to_contain_text("Archived nojs")
    assert api.get(f"/api/v1/links/{link_id}").json()["archived"] is True
    # Cancel on the confirm page goes back and changes nothing.
    made = api.post("/api/v1/links", json={"destination": f"{base_url}/healthz", "code": "kept"})
    kept = made.json()["id"]
    page.goto(f"{base_url}/dashboard/links/{kept}")
    page.get_by_role("button", name="Archive").click()
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url(f"{base_url}/dashboard/links/{kept}")
    assert api.get(f"/api/v1/links/{kept}").json()["archived"] is False
    context.close()


def test_event_mode_from_the_link_page(world: dict[str, Any]) -> None:
    base_url, api = world["base_url"], world["api"]
    made = api.post("/api/v1/links", json={"destination": f"{base_url}/healthz", "code": "gig"})
    link_id = made.json()["id"]
    context, page, watch = logged_in(world)
    page.goto(f"{base_url}/dashboard/links/{link_id}")
    page.get_by_role("link", name="Turn event mode on").click()
    page.get_by_label("Starts (UTC)").fill("2026-01-01T10:00")
    page.get_by_label("Ends (UTC)").fill("2026-01-01T12:00")
    page.get_by_label("After the event, lead to").fill(f"{base_url}/readyz")
    page.get_by_role("button", name="Turn event mode on").click()
    sync_api.expect(page.locator(".flash").first).to_contain_text("Event mode is on")
    sync_api.expect(page.locator("#event .badge")).to_have_text("after")
    assert api.get(f"/api/v1/links/{link_id}/event").json()["phase"] == "after"
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Turn event mode off").click()
    sync_api.expect(page.locator(".flash").first).to_contain_text("Event mode is off")
    assert api.get(f"/api/v1/links/{link_id}/event").status_code == 404
    world["link_id"] = link_id
    assert watch.errors == []
    context.close()


@pytest.mark.parametrize(
    "path",
    ["/dashboard/sites", "/dashboard/keys", "/dashboard/sites/1/edit", "/dashboard/links/1/event"],
)
def test_new_pages_fit_a_phone_screen(world: dict[str, Any], path: str) -> None:
    fits_a_phone(world, path)
