"""fm.js in real headless Chromium against a real `firstmark serve`.

A small test site on loopback serves the pages and, like the documented nginx/Caddy setup,
proxies `/fm.js`, `/fm-phone.js`, `/e` and `/n` to firstmark on its own origin (adding
`X-Forwarded-For` with a test address, so the privacy scan has an address to look for).
Chromium is Debian's /usr/bin/chromium driven by PyPI playwright; screenshots go to
tests/artifacts/.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from serverproc import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
TEST_IP = "198.51.100.77"
UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 FmBrowserTest/7.3"
)
EMAIL, PHONE = "jane.browser@example.org", "+4791234599"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
NOT_WEBDRIVER = "Object.defineProperty(Navigator.prototype, 'webdriver', {get: () => false});"
GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

STUB = (
    "window.firstmark=window.firstmark||function(){(firstmark.q=firstmark.q||[]).push(arguments)};"
)
GRANT = (
    "firstmark('consent',{analytics_storage:'granted',ad_storage:'granted',"
    "ad_user_data:'granted',ad_personalization:'denied'});"
)


def page_html(key: str, *, consent: bool, script: str = "/fm.js", api: str = "") -> str:
    api_attr = f' data-api="{api}"' if api else ""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>shop</title>
<script>{STUB}{GRANT if consent else ""}</script>
<script defer src="{script}" data-site="{key}" data-local{api_attr}></script></head>
<body><h1 id="h">Test shop</h1>
<button id="next" onclick="history.pushState({{}}, '', '/step2')">next</button>
<button id="grant" onclick="{GRANT}">grant</button>
<button id="buy" onclick="firstmark('conversion','purchase',{{value:10,currency:'EUR',plan:'pro'}});
document.getElementById('h').textContent='bought'">buy</button>
</body></html>"""


class Site:
    """The test website: pages from memory; /fm.js, /fm-phone.js, /e and /n proxied to firstmark."""

    def __init__(self, upstream_port: int) -> None:
        self.pages: dict[str, str] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _proxy(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                skip = {"host", "connection", "content-length", "x-forwarded-for"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                headers["x-forwarded-for"] = TEST_IP
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=10)
                try:
                    conn.request(method, self.path, body=body, headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                    self.send_response(answer.status)
                    for name, value in answer.getheaders():
                        if name.lower() not in (
                            "connection",
                            "transfer-encoding",
                            "server",
                            "date",
                        ):
                            self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    conn.close()

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path in ("/fm.js", "/fm-phone.js", "/n"):
                    self._proxy("GET")
                    return
                html = site.pages.get(path)
                if html is None:
                    self.send_error(404)
                    return
                data = html.encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                if self.path == "/e":
                    self._proxy("POST")
                else:
                    self.send_error(404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()


def wait_for(check: Callable[[], Any], timeout: float = 8.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("browser")
    server = ServerProcess(work, env={"FIRSTMARK_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        base_url, api_key = server.start()
        auth = {"authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=base_url, headers=auth, timeout=10) as api:
            key = api.post("/api/v1/sites", json={"hosts": ["127.0.0.1"]}).json()["key"]
            goal = {"name": "purchase", "default_value": 10, "currency": "EUR"}
            assert api.post("/api/v1/goals", json=goal).status_code == 201
            with Site(server.port or 0) as site:
                site.pages["/plain.html"] = page_html(key, consent=False)
                site.pages["/consent.html"] = page_html(key, consent=True)
                site.pages["/step2"] = page_html(key, consent=True)
                dead = "http://127.0.0.1:9"  # discard port: nothing listens
                site.pages["/down.html"] = page_html(key, consent=True, script=f"{dead}/fm.js")
                site.pages["/noapi.html"] = page_html(key, consent=True, api=f"{dead}/e")
                link = api.post(
                    "/api/v1/links",
                    json={"destination": f"{site.url}/consent.html?utm_source=poster&"
                          "utm_medium=print&gclid=GCLID-123", "placement": "poster-oslo-s",
                          "campaign": "winter", "code": "winter1"},
                )  # fmt: skip
                assert link.status_code == 201, link.text
                ARTIFACTS.mkdir(exist_ok=True)
                with sync_api.sync_playwright() as pw:
                    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
                    try:
                        yield {
                            "browser": browser, "site": site, "db": server.db_path, "api": api,
                            "key": key, "link_id": link.json()["id"], "base_url": base_url,
                        }  # fmt: skip
                    finally:
                        browser.close()
    finally:
        server.kill()


def new_page(
    world: dict[str, Any], *, gpc: bool = False, webdriver: bool = False
) -> tuple[Any, Any, list[str]]:
    headers = {"Sec-GPC": "1"} if gpc else {}
    context = world["browser"].new_context(user_agent=UA, extra_http_headers=headers)
    context.add_init_script(("" if webdriver else NOT_WEBDRIVER) + (GPC if gpc else ""))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


def events(world: dict[str, Any], since_id: int = 0) -> list[tuple[Any, ...]]:
    return rows(
        world["db"],
        "SELECT id, kind, name, path, visitor_id, consent, link_id, utm_source FROM events "
        "WHERE id > ? ORDER BY id",
        (since_id,),
    )


def last_id(world: dict[str, Any]) -> int:
    return int(rows(world["db"], "SELECT coalesce(max(id), 0) FROM events")[0][0])


def test_no_consent_pageview_without_cookie_storage_or_visitor_id(world: dict[str, Any]) -> None:
    start = last_id(world)
    context, page, errors = new_page(world)
    page.goto(f"{world['site'].url}/plain.html")
    found = wait_for(lambda: events(world, start))
    page.screenshot(path=str(ARTIFACTS / "no-consent.png"))
    assert [(e[1], e[3], e[4], e[5]) for e in found] == [("pageview", "/plain.html", None, "none")]
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert context.cookies() == [] and errors == []
    context.close()


def test_consent_keeps_one_visitor_id_across_loads_and_spa_navigation(
    world: dict[str, Any],
) -> None:
    start = last_id(world)
    context, page, errors = new_page(world)
    page.goto(f"{world['site'].url}/consent.html")
    wait_for(lambda: len(events(world, start)) >= 1)
    page.reload()
    wait_for(lambda: len(events(world, start)) >= 2)
    page.click("#next")  # history.pushState
    wait_for(lambda: len(events(world, start)) >= 3)
    page.go_back()  # popstate
    found = wait_for(lambda: len(events(world, start)) >= 4 and events(world, start))
    page.screenshot(path=str(ARTIFACTS / "consent-spa.png"))
    paths = [e[3] for e in found]
    assert paths == ["/consent.html", "/consent.html", "/step2", "/consent.html"]
    vids = {e[4] for e in found}
    stored = page.evaluate("localStorage.getItem('fm_vid')")
    assert vids == {stored} and stored and len(stored) >= 8
    assert {e[5] for e in found} == {"full"}
    assert context.cookies() == [] and errors == []
    context.close()


def test_gpc_means_no_identifiers_whatever_the_page_grants(world: dict[str, Any]) -> None:
    start = last_id(world)
    context, page, errors = new_page(world, gpc=True)
    page.goto(f"{world['site'].url}/consent.html?utm_source=gpc-test&gclid=GPC-GCLID")
    found = wait_for(lambda: events(world, start))
    page.screenshot(path=str(ARTIFACTS / "gpc.png"))
    assert [(e[4], e[5], e[7]) for e in found] == [(None, "gpc", "gpc-test")]
    assert page.evaluate("navigator.globalPrivacyControl") is True
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert rows(world["db"], "SELECT count(*) FROM touches WHERE utm_source = 'gpc-test'") == [(0,)]
    assert errors == []
    context.close()


def test_a_click_on_a_short_link_attributes_the_later_conversions(world: dict[str, Any]) -> None:
    start = last_id(world)
    context, page, errors = new_page(world)
    page.goto(f"{world['base_url']}/winter1")  # 302 to the site with fm_click
    assert "fm_click=" in page.url
    wait_for(lambda: events(world, start))
    page.click("#next")
    page.click("#buy")
    wait_for(lambda: rows(world["db"], "SELECT count(*) FROM conversions")[0][0] >= 1)
    page.screenshot(path=str(ARTIFACTS / "conversion.png"))
    [(vid, link_id, gclid)] = rows(
        world["db"],
        "SELECT visitor_id, link_id, click_ids FROM touches WHERE utm_source = 'poster'",
    )
    assert link_id == world["link_id"] and "GCLID-123" in gclid
    # The backend reports the order later, knowing only the visitor id the page kept.
    answer = world["api"].post(
        "/api/v1/conversions",
        json={"event_id": "order-77", "goal": "purchase", "visitor_id": vid, "value": 99,
              "currency": "EUR", "consent": {"analytics_storage": "granted",
              "ad_user_data": "granted"}, "user_data": {"email": EMAIL, "phone": PHONE},
              "client_ip": TEST_IP, "user_agent": UA},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    listed = world["api"].get("/api/v1/conversions").json()["items"]
    by_source = {c["source"]: c["attribution"] for c in listed}
    for source in ("web", "server"):
        assert by_source[source]["link_id"] == world["link_id"]
        assert by_source[source]["placement"] == "poster-oslo-s"
        assert by_source[source]["utm_source"] == "poster"
    assert errors == []
    context.close()


def test_an_automated_browser_sends_nothing(world: dict[str, Any]) -> None:
    start = last_id(world)
    context, page, errors = new_page(world, webdriver=True)
    assert page.goto(f"{world['site'].url}/consent.html") is not None
    assert page.evaluate("navigator.webdriver") is True
    page.click("#buy")
    page.wait_for_timeout(300)
    assert events(world, start) == [] and errors == []
    context.close()


def test_consent_given_later_carries_the_landing_to_the_next_page(world: dict[str, Any]) -> None:
    start = last_id(world)
    context, page, errors = new_page(world)
    page.goto(f"{world['site'].url}/plain.html?utm_source=late-consent&utm_medium=social")
    wait_for(lambda: events(world, start))
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0
    page.click("#grant")
    page.goto(f"{world['site'].url}/consent.html")
    found = wait_for(lambda: len(events(world, start)) >= 2 and events(world, start))
    vid = page.evaluate("localStorage.getItem('fm_vid')")
    assert [(e[4], e[7]) for e in found] == [(None, "late-consent"), (vid, "late-consent")]
    touches = rows(world["db"], "SELECT visitor_id FROM touches WHERE utm_source = 'late-consent'")
    assert touches == [(vid,)]
    assert page.evaluate("sessionStorage.getItem('fm_land')") is None
    assert errors == []
    context.close()


@pytest.mark.parametrize("page_name", ["down.html", "noapi.html"])
def test_the_page_keeps_working_when_firstmark_is_down(
    world: dict[str, Any], page_name: str
) -> None:
    context, page, errors = new_page(world)
    page.goto(f"{world['site'].url}/{page_name}")
    page.click("#buy")
    assert page.text_content("#h") == "bought"
    page.screenshot(path=str(ARTIFACTS / f"down-{page_name}.png"))
    assert errors == []
    context.close()


def test_gas_own_ids_go_with_events_only_under_analytics_consent(world: dict[str, Any]) -> None:
    context, page, errors = new_page(world)
    site = world["site"].url
    context.add_cookies([
        {"name": "_ga", "value": "GA1.1.1234567890.1764000000", "url": site},
        {"name": "_ga_ABC123XYZ", "value": "GS2.1.s1764071000$o3$g1$t1764071200$j60", "url": site},
    ])  # fmt: skip
    bodies: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: bodies.append(json.loads(r.post_data)) if r.url.endswith("/e") else None,
    )
    page.goto(f"{site}/plain.html")
    wait_for(lambda: bodies)
    assert "ga" not in bodies[0]  # no analytics consent: GA's cookies are not even read
    page.goto(f"{site}/consent.html")
    wait_for(lambda: len(bodies) >= 2)
    assert bodies[-1]["ga"] == {"client_id": "1234567890.1764000000", "session_id": "1764071000"}
    page.click("#buy")
    wait_for(lambda: any(b["type"] == "conversion" for b in bodies))
    [bought] = [b for b in bodies if b["type"] == "conversion"]
    assert bought["ga"]["client_id"] == "1234567890.1764000000"
    assert errors == []
    context.close()


def test_zz_no_address_user_agent_email_or_phone_is_stored(world: dict[str, Any]) -> None:
    """Runs after the scenarios above (module order): scan every table and column."""
    assert rows(world["db"], "SELECT count(*) FROM events")[0][0] >= 8
    needles = [TEST_IP, UA, "FmBrowserTest", EMAIL, PHONE, PHONE.lstrip("+"), "GPC-GCLID"]
    conn = sqlite3.connect(world["db"])
    found = []
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for column in [c[1] for c in conn.execute(f"PRAGMA table_info({table})")]:
                for (value,) in conn.execute(f"SELECT {column} FROM {table}"):
                    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    found += [f"{table}.{column}: {n}" for n in needles if n in text]
    finally:
        conn.close()
    assert found == []
