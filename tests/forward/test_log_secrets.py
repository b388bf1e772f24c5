"""No credential reaches the server log: a real `firstmark serve` forwards to fake GA4 and
Snapchat endpoints (both take their secret in the query string) with every logger at DEBUG, the
platforms fail first (so errors are logged too), and the whole log is searched for the secrets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from firstmark.logs import configure, scrub, scrub_url
from serverproc import FakeServer, JSONHandler, ServerProcess

pytestmark = pytest.mark.slow
ADS = {"ad_user_data": "granted", "ad_personalization": "granted"}
GA4_SECRET = "ga4-secret-Zq81xR"
SNAP_SECRET = "snap-token-Wv03pL"


class FakePlatforms(FakeServer):
    """GA4 and Snap on one loopback server: each answers 500 the first time (with the request
    URL in the body, as a chatty proxy might), then success."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        fake = self

        class Handler(JSONHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                first = self.path.split("?")[0] not in {p.split("?")[0] for p in fake.seen}
                fake.seen.append(self.path)
                if first:
                    self.answer(500, {"error": f"upstream failed for {self.path}"})
                else:
                    self.answer(200, {})

        super().__init__(Handler)


@pytest.fixture
def fake() -> Iterator[FakePlatforms]:
    with FakePlatforms() as platforms:
        yield platforms


def test_forwarding_logs_no_credential(tmp_path: Path, fake: FakePlatforms) -> None:
    env = {
        "FIRSTMARK_LOG_LEVEL": "debug", "FIRSTMARK_OUTBOUND_LOG_LEVEL": "debug",
        "FIRSTMARK_DESTINATION_ALLOW_PRIVATE": "true", "FIRSTMARK_FORWARD_POLL_S": "0.05",
        "FIRSTMARK_FORWARD_BACKOFF_S": "0.1",
    }  # fmt: skip
    server = ServerProcess(tmp_path, env=env)
    try:
        base, key = server.start()
        with httpx.Client(base_url=base, headers={"authorization": f"Bearer {key}"}) as http:
            assert http.post("/api/v1/goals", json={"name": "purchase"}).status_code == 201
            ids = []
            for body in (
                {"platform": "ga4", "name": "ga", "endpoint_base": fake.url,
                 "credentials": {"measurement_id": "G-TEST1", "api_secret": GA4_SECRET}},
                {"platform": "snapchat", "name": "snap", "endpoint_base": fake.url,
                 "credentials": {"pixel_id": "px-1", "access_token": SNAP_SECRET}},
            ):  # fmt: skip
                made = http.post("/api/v1/destinations", json={**body, "goals": {"purchase": "p"}})
                assert made.status_code == 201, made.text
                ids.append(made.json()["id"])
            conv = {"event_id": "order-1", "goal": "purchase", "consent": ADS, "value": 5,
                    "currency": "EUR", "user_data": {"email": "a@example.com"}}  # fmt: skip
            answer = http.post("/api/v1/conversions", json={"conversions": [conv]})
            assert answer.status_code == 200, answer.text
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                sent = [http.get(f"/api/v1/destinations/{i}").json()["outbox"]["sent"] for i in ids]
                if sent == [1, 1]:
                    break
                time.sleep(0.1)
            assert sent == [1, 1], server.log_tail()
            for dest_id in ids:  # the test endpoint too
                # Snapchat has no test mode: its test is a live event, asked for as such.
                tested = http.post(f"/api/v1/destinations/{dest_id}/test?live=true")
                assert tested.status_code == 200, tested.text
        assert server.stop() == 0
    finally:
        server.kill()
    assert any(GA4_SECRET in p for p in fake.seen) and any(SNAP_SECRET in p for p in fake.seen)
    log = server.log_path.read_text()
    assert "HTTP Request: POST" in log  # httpx did log the requests, at DEBUG/INFO
    assert "api_secret=***" in log and "access_token=***" in log
    assert GA4_SECRET not in log and SNAP_SECRET not in log


def test_outbound_loggers_stay_at_warning_by_default() -> None:
    root = logging.getLogger()
    kept = root.handlers[:], root.level
    try:
        configure("debug")
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("httpcore").getEffectiveLevel() == logging.WARNING
        configure("debug", "info")
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.INFO
    finally:
        root.handlers[:], root.level = kept
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    ("url", "scrubbed"),
    [
        ("https://www.google-analytics.com/mp/collect?measurement_id=G-1&api_secret=s3",
         "https://www.google-analytics.com/mp/collect?measurement_id=***&api_secret=***"),
        ("https://tr.snapchat.com/v3/px/events?access_token=t0k#frag=x",
         "https://tr.snapchat.com/v3/px/events?access_token=***#frag=***"),
        ("https://user:pw@proxy.example/x", "https://***@proxy.example/x"),
        ("https://a.example/p", "https://a.example/p"),
        ("https://a.example/p?flag", "https://a.example/p?flag"),
        ("https://a.example/p#token=abc", "https://a.example/p#token=***"),
    ],
)  # fmt: skip
def test_a_url_keeps_its_names_and_loses_its_values(url: str, scrubbed: str) -> None:
    assert scrub_url(url) == scrubbed


def test_every_url_in_a_line_is_scrubbed() -> None:
    line = (
        'HTTP Request: POST http://127.0.0.1:9/mp/collect?api_secret=abc "HTTP/1.1 500" '
        "and 'https://x.example/?access_token=def' then done"
    )
    out = scrub(line)
    assert "abc" not in out and "def" not in out and out.endswith("then done")
    assert "api_secret=***" in out and "access_token=***" in out
