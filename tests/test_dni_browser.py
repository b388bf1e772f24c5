"""Dynamic number insertion in real headless Chromium against a real `firstmark serve`.

The test site (from test_browser) proxies `/fm.js`, `/fm-phone.js`, `/e` and `/n`; the server
renews leases every second (FIRSTMARK_DNI_RENEW_S=1) so the heartbeat shows within the test.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from serverproc import ServerProcess
from test_browser import ARGS, ARTIFACTS, CHROMIUM, GRANT, NOT_WEBDRIVER, STUB, UA, Site
from test_browser import page_html as shop_html

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

BUSINESS = "+14155550100"
POOL = [f"+1415555{2000 + i}" for i in range(8)]
# Every /n answer the page reads, handed to the test (across page loads of the tab).
RECORD = """(() => { const f = window.fetch; window.fetch = function (u) {
  const p = f.apply(this, arguments);
  if (String(u).indexOf("/n?") >= 0)
    p.then((r) => r.clone().json()).then(window.fmAnswer, () => {});
  return p; }; })();"""


def page_html(key: str, *, consent: bool, attrs: str = "") -> str:
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>shop</title>
<script>{STUB}{GRANT if consent else ""}</script>
<script defer src="/fm.js" data-site="{key}" data-local{attrs}></script></head>
<body><h1>Call us</h1>
<p><a id="call" data-fm-phone href="tel:{BUSINESS}">+1 415-555-0100</a></p>
<p id="text">(415) 555-0100</p>
<p><a id="button" href="tel:+1-415-555-0100">Call now</a></p>
<p id="order">Order 5550100</p>
<button id="grant" onclick="{GRANT}">grant</button>
</body></html>"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("dni-browser")
    env = {
        "FIRSTMARK_TRUSTED_PROXIES": "127.0.0.1",
        "FIRSTMARK_DNI_RENEW_S": "1",
        "FIRSTMARK_DNI_RATE_LIMIT": "0",
    }
    server = ServerProcess(work, env=env)
    try:
        base_url, api_key = server.start()
        auth = {"authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=base_url, headers=auth, timeout=10) as api:
            key = api.post("/api/v1/sites", json={"hosts": ["127.0.0.1"]}).json()["key"]
            for number in POOL:
                body = {"number": number, "provider": "twilio", "forward_to": "+14155550199",
                        "pool": "web"}  # fmt: skip
                assert api.post("/api/v1/numbers", json=body).status_code == 201
            pool = api.put("/api/v1/pools/web", json={"site": key, "fallback": BUSINESS})
            assert pool.status_code == 200, pool.text
            with Site(server.port or 0) as site:
                phone = ' data-phone="+1 415 555 0100"'
                site.pages["/plain.html"] = page_html(key, consent=False)
                site.pages["/consent.html"] = page_html(key, consent=True)
                site.pages["/next.html"] = page_html(key, consent=True)
                site.pages["/text.html"] = page_html(key, consent=False, attrs=phone)
                site.pages["/shop.html"] = shop_html(key, consent=False)
                ARTIFACTS.mkdir(exist_ok=True)
                with sync_api.sync_playwright() as pw:
                    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
                    try:
                        yield {"browser": browser, "site": site, "api": api}
                    finally:
                        browser.close()
    finally:
        server.kill()


class Tab:
    """One browser tab, with every /n answer it received."""

    def __init__(self, world: dict[str, Any], *, webdriver: bool = False) -> None:
        self.context = world["browser"].new_context(user_agent=UA)
        self.context.add_init_script(("" if webdriver else NOT_WEBDRIVER) + RECORD)
        self.answers: list[dict[str, Any]] = []
        self.context.expose_function("fmAnswer", self._answer)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.base = world["site"].url

    def _answer(self, data: dict[str, Any]) -> None:
        self.answers.append(data)

    def until(self, check: Callable[[], Any], timeout: float = 8.0) -> Any:
        """Wait for `check` while the page runs (and hands over its answers)."""
        deadline = time.monotonic() + timeout
        while not (result := check()) and time.monotonic() < deadline:
            self.page.wait_for_timeout(50)
        return result

    def open(self, path: str) -> None:
        self.page.goto(f"{self.base}{path}")

    def shown(self) -> tuple[str, str]:
        return (
            self.page.text_content("#call") or "",
            self.page.get_attribute("#call", "href") or "",
        )

    def number(self) -> str:
        """The number the page shows once a lease came in."""
        found = self.until(lambda: self.shown()[1] in [f"tel:{n}" for n in POOL] and self.shown())
        assert found, f"no pool number shown: {self.shown()}, answers {self.answers}"
        assert self.until(lambda: self.answers)
        return str(found[1]).removeprefix("tel:")

    def stored(self) -> Any:
        raw = self.page.evaluate("sessionStorage.getItem('fm_lease')")
        return None if raw is None else json.loads(raw)

    def close(self) -> None:
        assert self.context.cookies() == [] and self.errors == []
        self.context.close()


def test_a_page_shows_a_pool_number_kept_in_memory_until_consent(world: dict[str, Any]) -> None:
    tab = Tab(world)
    tab.open("/plain.html")
    number = tab.number()
    display = tab.answers[0]["display"]
    assert tab.shown() == (display, f"tel:{number}") and display.startswith("+1 415-555-2")
    tab.page.screenshot(path=str(ARTIFACTS / "dni-no-consent.png"))
    assert tab.page.evaluate("localStorage.length + sessionStorage.length") == 0
    # Without data-phone, the page's other copies of the business number stay as they are.
    assert tab.page.text_content("#text") == "(415) 555-0100"
    tab.page.click("#grant")
    kept = tab.until(tab.stored)
    assert kept[""]["lease"] == tab.answers[0]["lease"] and kept[""]["number"] == number
    tab.close()


def test_with_consent_the_number_stays_across_pages_and_the_heartbeat_renews_it(
    world: dict[str, Any],
) -> None:
    tab = Tab(world)
    tab.open("/consent.html")
    number = tab.number()
    lease = tab.answers[0]["lease"]
    assert tab.stored()[""]["lease"] == lease
    tab.open("/next.html")
    assert tab.number() == number
    assert tab.until(lambda: len(tab.answers) >= 4, timeout=10)
    renewals = tab.answers[1:]
    assert all(a["lease"] == lease and a["renewed"] for a in renewals), tab.answers
    assert renewals[-1]["expires"] > tab.answers[0]["expires"]
    assert tab.stored()[""]["lease"] == lease and tab.shown()[1] == f"tel:{number}"
    tab.page.screenshot(path=str(ARTIFACTS / "dni-consent.png"))
    tab.close()


def test_a_hidden_page_stops_renewing_until_it_is_seen_again(world: dict[str, Any]) -> None:
    tab = Tab(world)
    tab.open("/plain.html")
    tab.number()
    tab.page.evaluate(
        "window.fmHidden = true; Object.defineProperty(document, 'visibilityState', "
        "{get: () => (window.fmHidden ? 'hidden' : 'visible'), configurable: true});"
    )
    tab.page.wait_for_timeout(300)  # a heartbeat already on its way
    seen = len(tab.answers)
    tab.page.wait_for_timeout(2500)  # two and a half heartbeat intervals
    assert len(tab.answers) == seen
    tab.page.evaluate(
        "window.fmHidden = false; document.dispatchEvent(new Event('visibilitychange'))"
    )
    assert tab.until(lambda: len(tab.answers) > seen, timeout=3)
    assert tab.answers[-1]["renewed"] and tab.answers[-1]["lease"] == tab.answers[0]["lease"]
    tab.close()


def test_without_consent_each_page_view_has_its_own_lease(world: dict[str, Any]) -> None:
    tab = Tab(world)
    tab.open("/plain.html")
    tab.number()
    first = tab.answers[0]["lease"]
    tab.open("/plain.html")
    again = tab.until(lambda: [a for a in tab.answers if a["lease"] not in (None, first)])
    assert again and not again[0]["renewed"], tab.answers
    assert tab.page.evaluate("sessionStorage.length") == 0
    tab.close()


def test_the_business_number_in_text_and_links_is_swapped_too(world: dict[str, Any]) -> None:
    tab = Tab(world)
    tab.open("/text.html")
    number = tab.number()
    display = tab.page.text_content("#call")
    assert tab.until(lambda: tab.page.text_content("#text") == display)
    assert tab.page.get_attribute("#button", "href") == f"tel:{number}"
    assert tab.page.text_content("#button") == "Call now"
    assert tab.page.text_content("#order") == "Order 5550100"
    tab.page.screenshot(path=str(ARTIFACTS / "dni-text.png"))
    tab.close()


def test_a_page_without_a_number_loads_no_phone_script(world: dict[str, Any]) -> None:
    tab = Tab(world)
    asked: list[str] = []
    tab.page.on("request", lambda request: asked.append(request.url))
    tab.open("/shop.html")
    assert tab.until(lambda: any(url.endswith("/e") for url in asked))  # its pageview
    tab.page.click("#grant")
    tab.page.click("#buy")  # a conversion, now with a visitor id
    assert tab.until(lambda: tab.page.evaluate("localStorage.getItem('fm_vid')"))
    tab.page.wait_for_timeout(300)
    assert [url for url in asked if "/fm-phone.js" in url or "/n?" in url] == []
    assert tab.stored() is None
    tab.close()


def test_an_automated_browser_leaves_the_page_its_number(world: dict[str, Any]) -> None:
    tab = Tab(world, webdriver=True)
    tab.open("/consent.html")
    tab.page.wait_for_timeout(500)
    assert tab.shown() == ("+1 415-555-0100", f"tel:{BUSINESS}") and tab.answers == []
    tab.close()
