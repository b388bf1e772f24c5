"""Fault test: a real `firstmark serve` forwards to a fake platform on loopback that answers
429 with Retry-After, 500, hangs past the timeout, drops the connection and refuses single
events, while firstmark is killed (SIGKILL) and started again mid-stream. Afterwards every good
conversion has reached the platform (deduplicated by event_id, as platforms do) and every
refused one is dead with the platform's reason."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from serverproc import FakeServer, JSONHandler, ServerProcess

pytestmark = pytest.mark.slow
ADS = {"ad_user_data": "granted", "ad_personalization": "granted"}


class FakePinterest(FakeServer):
    """Scripted answers for the first requests, then per-event results."""

    def __init__(self) -> None:
        self.script: deque[str] = deque(["429", "500", "hang", "drop"])
        self.accepted: list[str] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(JSONHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with fake.lock:
                    step = fake.script.popleft() if fake.script else "answer"
                if step == "429":
                    return self.answer(429, {"message": "slow down"}, {"retry-after": "1"})
                if step == "500":
                    return self.answer(500, {"message": "internal"})
                if step == "hang":
                    time.sleep(2.5)  # past firstmark's 1 s timeout; nothing is processed
                    return None
                if step == "drop":
                    self.close_connection = True  # drop it without an answer
                    return None
                results = []
                for event in body["data"]:
                    if event["event_id"].startswith("bad-"):
                        results.append({"status": "failed", "error_message": "invalid em hash"})
                    else:
                        with fake.lock:
                            fake.accepted.append(event["event_id"])
                        results.append({"status": "processed"})
                return self.answer(200, {"num_events_received": len(results), "events": results})

        super().__init__(Handler)


@pytest.fixture
def fake() -> Iterator[FakePinterest]:
    with FakePinterest() as platform:
        yield platform


def post_conversions(http: httpx.Client, ids: list[str]) -> None:
    items = [{"event_id": i, "goal": "purchase", "consent": ADS, "value": 5, "currency": "EUR",
              "user_data": {"email": f"{i}@example.com"}} for i in ids]  # fmt: skip
    answer = http.post("/api/v1/conversions", json={"conversions": items})
    assert answer.status_code == 200, answer.text


def test_every_conversion_arrives_once_or_dies_with_the_reason(
    tmp_path: Path, fake: FakePinterest
) -> None:
    env = {
        "FIRSTMARK_FORWARD_POLL_S": "0.05", "FIRSTMARK_FORWARD_TIMEOUT_S": "1",
        "FIRSTMARK_FORWARD_LEASE_S": "2", "FIRSTMARK_FORWARD_BACKOFF_S": "0.2",
        "FIRSTMARK_FORWARD_BATCH": "10", "FIRSTMARK_DESTINATION_ALLOW_PRIVATE": "true",
    }  # fmt: skip
    good = [f"order-{n}" for n in range(54)]
    bad = [f"bad-{n}" for n in range(6)]
    ids = [*good, *bad]
    ids.sort(key=lambda i: int(i.split("-")[1]))
    server = ServerProcess(tmp_path, env=env)
    try:
        base, key = server.start()
        auth = {"authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=auth, timeout=10) as http:
            assert http.post("/api/v1/goals", json={"name": "purchase"}).status_code == 201
            dest = http.post("/api/v1/destinations", json={
                "platform": "pinterest", "name": "pins", "endpoint_base": fake.url,
                "credentials": {"ad_account_id": "549", "access_token": "pina-test"},
                "goals": {"purchase": "checkout"},
            })  # fmt: skip
            assert dest.status_code == 201, dest.text
            dest_id = dest.json()["id"]
            post_conversions(http, ids[:30])
            time.sleep(0.4)  # the worker is mid-stream
        server.stop(signal.SIGKILL)
        base, _ = server.start()
        fake.script.extend(["hang", "500"])  # faults after the restart, too
        with httpx.Client(base_url=base, headers=auth, timeout=10) as http:
            post_conversions(http, ids[30:])
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                counts = http.get(f"/api/v1/destinations/{dest_id}").json()["outbox"]
                if counts["pending"] + counts["retry"] + counts["sending"] == 0:
                    break
                time.sleep(0.2)
            assert counts == {"pending": 0, "sending": 0, "retry": 0, "sent": 54, "dead": 6}
            log = http.get(f"/api/v1/destinations/{dest_id}/deliveries",
                           params={"limit": 1000}).json()["items"]  # fmt: skip
            dead = {e["event_id"]: e["error"] for e in log if e["status"] == "dead"}
            assert dead == dict.fromkeys(bad, "invalid em hash")
            retried = {e["error"] for e in log if e["status"] == "retry"}
            assert any(r.startswith("HTTP 429") for r in retried)
            assert any(r.startswith("HTTP 500") for r in retried)
            assert "timed out" in retried
            assert any(r.startswith("transport error") for r in retried)
        assert server.stop(signal.SIGTERM) == 0
    finally:
        server.kill()
    seen = Counter(fake.accepted)
    assert set(seen) == set(good)  # every good conversion arrived
    # A batch in flight at the SIGKILL may be sent again after its lease: the platform
    # deduplicates it by event_id. Nothing else is ever sent twice.
    assert sum(seen.values()) - len(seen) <= 10
