"""Redirects stay fast while clients hammer the CPU-heavy routes: dashboard logins (scrypt)
and QR codes with a large logo run in the worker pool, not on the event loop."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from qrtools import slow_logo
from serverproc import ServerProcess

PASSWORD = "offload-password-1"


def login_forever(base_url: str, stop: threading.Event, done: list[int]) -> None:
    while not stop.is_set():
        with httpx.Client(base_url=base_url, timeout=30) as browser:
            page = browser.get("/dashboard/login")
            found = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert found is not None
            r = browser.post(
                "/dashboard/login",
                data={"csrf": found.group(1), "username": "admin", "password": PASSWORD},
            )
            assert r.status_code == 303, r.text
            done.append(1)


def qr_forever(base_url: str, key: str, path: str, stop: threading.Event, done: list[int]) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as api:
        while not stop.is_set():
            r = api.get(path, headers={"authorization": f"Bearer {key}"})
            assert r.status_code == 200, r.text
            done.append(1)


@pytest.mark.slow
def test_redirects_stay_fast_while_logins_and_qr_logos_hammer(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    try:
        server.init()
        done = server.cli("user", "password", "admin", "--password", PASSWORD)
        assert done.returncode == 0, done.stderr
        base_url, key = server.start()
        auth = {"authorization": f"Bearer {key}"}
        r = httpx.post(
            f"{base_url}/api/v1/links",
            json={"destination": "https://example.com/", "code": "lag"},
            headers=auth,
        )
        assert r.status_code == 201, r.text
        link_id = r.json()["id"]
        r = httpx.post(
            f"{base_url}/api/v1/qr/logos",
            content=slow_logo(),
            headers={**auth, "content-type": "image/png"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        path = f"/api/v1/links/{link_id}/qr?format=png&logo={r.json()['id']}&logo_size=30"

        stop = threading.Event()
        logins: list[int] = []
        renders: list[int] = []
        hammers = [
            threading.Thread(target=login_forever, args=(base_url, stop, logins)),
            threading.Thread(target=login_forever, args=(base_url, stop, logins)),
            threading.Thread(target=qr_forever, args=(base_url, key, path, stop, renders)),
            threading.Thread(target=qr_forever, args=(base_url, key, path, stop, renders)),
        ]
        latencies: list[float] = []
        with httpx.Client(base_url=base_url, timeout=30) as visitor:
            assert visitor.get("/lag").status_code == 302  # warm
            for hammer in hammers:
                hammer.start()
            try:
                time.sleep(1.0)
                end = time.monotonic() + 6
                while time.monotonic() < end:
                    started = time.perf_counter()
                    assert visitor.get("/lag").status_code == 302
                    latencies.append(time.perf_counter() - started)
                    time.sleep(0.005)
            finally:
                stop.set()
                for hammer in hammers:
                    hammer.join(60)
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99)]
        print(
            f"redirect p99 {p99 * 1000:.1f} ms over {len(latencies)} clicks, "
            f"{len(logins)} logins, {len(renders)} QR renders"
        )
        assert logins and renders
        # ≤ 20 ms measured (docs/performance.md); generous here, the machine is shared.
        assert p99 <= 0.150, f"redirect p99 {p99 * 1000:.0f} ms under the login/QR flood"
    finally:
        server.kill()
