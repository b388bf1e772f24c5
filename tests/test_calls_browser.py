"""A call from a web page, end to end, in real headless Chromium against a real server.

A visitor lands from a Meta ad (fbclid, UTM tags) and agrees to ads measurement; the page shows a
number leased from the website's pool. Twilio (simulated, signing with the official validator)
then reports a call to that number, forwarded and talked through for 75 seconds. The call must
land on that session's campaign, become a conversion, and reach a fake Meta Conversions API as a
phone-call event with the caller's number hashed, without the number ever being stored.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from twilio.request_validator import RequestValidator

from serverproc import ServerProcess
from test_browser import ARGS, ARTIFACTS, CHROMIUM, GRANT, NOT_WEBDRIVER, STUB, UA, Site

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

TOKEN = "twilio-token-for-the-browser-flow"
BUSINESS = "+14155550100"
POOL = [f"+1415555{3000 + i}" for i in range(4)]
CALLER = "+14155559876"
PIXEL = "987654321"


class FakeMeta:
    """Meta's Conversions API on loopback: records each events POST and accepts it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                fake.received.append({"path": self.path, "body": json.loads(body)})
                answer = json.dumps({"events_received": 1, "fbtrace_id": "t"}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def page_html(key: str) -> str:
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>plumber</title>
<script>{STUB}{GRANT}</script>
<script defer src="/fm.js" data-site="{key}" data-local></script></head>
<body><h1>Call us today</h1>
<p><a id="call" data-fm-phone href="tel:{BUSINESS}">+1 415-555-0100</a></p>
</body></html>"""


@pytest.fixture
def world(tmp_path: Any) -> Iterator[dict[str, Any]]:
    meta = FakeMeta()
    env = {
        "FIRSTMARK_TRUSTED_PROXIES": "127.0.0.1",
        "FIRSTMARK_TWILIO_AUTH_TOKEN": TOKEN,
        "FIRSTMARK_FORWARD_POLL_S": "0.2",
        "FIRSTMARK_DESTINATION_ALLOW_PRIVATE": "true",  # the fake platform is on loopback
    }
    server = ServerProcess(tmp_path, env=env)
    try:
        base_url, api_key = server.start()
        auth = {"authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=base_url, headers=auth, timeout=10) as api:
            key = api.post("/api/v1/sites", json={"hosts": ["127.0.0.1"]}).json()["key"]
            for number in POOL:
                body = {"number": number, "provider": "twilio", "forward_to": "+14155550199",
                        "pool": "website", "qualify_seconds": 60}  # fmt: skip
                assert api.post("/api/v1/numbers", json=body).status_code == 201
            assert api.put("/api/v1/pools/website", json={"site": key}).status_code == 200
            destination = {
                "platform": "meta", "name": "Meta", "endpoint_base": meta.url,
                "credentials": {"pixel_id": PIXEL, "access_token": "meta-token"},
                "goals": {"call": "Contact"},
            }  # fmt: skip
            created = api.post("/api/v1/destinations", json=destination)
            assert created.status_code == 201, created.text
            with Site(server.port or 0) as site:
                site.pages["/plumber.html"] = page_html(key)
                yield {"api": api, "site": site, "meta": meta, "base": base_url, "server": server}
    finally:
        server.kill()
        meta.close()


def twilio(base: str, path: str, params: dict[str, str]) -> httpx.Response:
    signature = RequestValidator(TOKEN).compute_signature(base + path, params)
    return httpx.post(base + path, data=params, headers={"x-twilio-signature": signature})


def test_a_call_to_the_pages_number_becomes_a_forwarded_phone_call_conversion(
    world: dict[str, Any],
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    landing = (
        "/plumber.html?utm_source=facebook&utm_medium=paid-social&utm_campaign=winter-boilers"
        "&fbclid=IwAR2browserflow"
    )
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(user_agent=UA)
            context.add_init_script(NOT_WEBDRIVER)
            page = context.new_page()
            page.goto(world["site"].url + landing)
            page.wait_for_function(
                "() => (document.querySelector('#call').getAttribute('href') || '')"
                ".startsWith('tel:+14155553')",
                timeout=8000,
            )
            shown = (page.get_attribute("#call", "href") or "").removeprefix("tel:")
            page.screenshot(path=str(ARTIFACTS / "calls-pool-number.png"))
            assert shown in POOL, shown
            assert context.cookies() == []
        finally:
            browser.close()

    base = world["base"]
    call = {"CallSid": "CA7f0e", "AccountSid": "AC1", "From": CALLER, "To": shown,
            "CallStatus": "ringing", "Direction": "inbound"}  # fmt: skip
    reply = twilio(base, "/hooks/twilio/voice", call)
    assert reply.status_code == 200, reply.text
    dial = ElementTree.fromstring(reply.text).find("Dial")
    assert dial is not None and dial.findtext("Number") == "+14155550199"
    leg = {"CallSid": "CA7f0f", "ParentCallSid": "CA7f0e", "From": CALLER, "To": "+14155550199"}
    for status in ("initiated", "ringing", "in-progress"):
        assert (
            twilio(base, "/hooks/twilio/status", {**leg, "CallStatus": status}).status_code == 204
        )
    done = {**call, "CallStatus": "in-progress", "DialCallSid": "CA7f0f",
            "DialCallStatus": "completed", "DialCallDuration": "75"}  # fmt: skip
    assert twilio(base, "/hooks/twilio/dial", done).status_code == 200

    api: httpx.Client = world["api"]
    [logged] = api.get("/api/v1/calls").json()["items"]
    assert logged["number"] == shown and logged["status"] == "completed"
    assert logged["utm_campaign"] == "winter-boilers" and logged["channel"] == "paid"
    assert logged["duration_seconds"] == 75 and logged["qualified"] is True
    assert logged["caller"] == "…76"

    meta: FakeMeta = world["meta"]
    deadline = time.monotonic() + 15
    while not meta.received and time.monotonic() < deadline:
        time.sleep(0.1)
    assert meta.received, "the conversion never reached the fake Meta endpoint"
    [sent] = meta.received
    assert sent["path"] == f"/v25.0/{PIXEL}/events"
    [event] = sent["body"]["data"]
    assert event["event_name"] == "Contact" and event["action_source"] == "phone_call"
    assert event["event_id"] == "call.twilio.CA7f0e"
    digits = CALLER.removeprefix("+")
    assert event["user_data"]["ph"] == [hashlib.sha256(digits.encode()).hexdigest()]
    assert event["user_data"]["fbc"].endswith(".IwAR2browserflow")

    server: ServerProcess = world["server"]
    server.kill()
    # neither the database nor the server's log holds the caller's number
    stored = b"".join(p.read_bytes() for p in server.workdir.iterdir() if p.is_file())
    for leaked in (CALLER.encode(), digits.encode(), b"5559876"):
        assert leaked not in stored
