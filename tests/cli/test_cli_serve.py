"""`firstmark serve` from the outside: a port already in use, and short URLs that follow the
port served when BASE_URL is not set."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from serverproc import HOST, free_port, sqlite_url

pytestmark = pytest.mark.slow


def environ(tmp_path: Path) -> dict[str, str]:
    """The machine's environment without FIRSTMARK_*, then a database and a secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTMARK_")}
    env["FIRSTMARK_DATABASE_URL"] = sqlite_url(tmp_path / "fm.db")
    env["FIRSTMARK_SECRET_KEY"] = "serve-test-secret"
    return env


def test_a_busy_port_is_one_clear_line_before_serving(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "firstmark", "serve", "--host", HOST, "--port", str(port)],
            env=environ(tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert proc.returncode == 2
    assert "serving" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith(
        f"firstmark: cannot listen on {HOST}:{port}: Address already in use"
    )
    assert len([line for line in lines if line.startswith("firstmark:")]) == 1, lines


def test_short_urls_follow_the_port_served(tmp_path: Path) -> None:
    env = environ(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "firstmark", "init"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    key = done.stdout.strip()
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "firstmark", "serve", "--port", str(port)],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://{HOST}:{port}"
    try:
        with httpx.Client(base_url=base, timeout=2.0) as http:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/readyz").status_code == 200:
                        break
                time.sleep(0.05)
            made = http.post(
                "/api/v1/links",
                json={"destination": "https://shop.example/", "code": "spring"},
                headers={"authorization": f"Bearer {key}"},
            )
        assert made.status_code == 201, made.text
        assert made.json()["short_url"] == f"{base}/spring"
        assert made.json()["qr_url"] == f"{base}/q/spring"
    finally:
        proc.kill()
        proc.wait(10)
        log.close()
    said = (tmp_path / "serve.log").read_text()
    assert f"serving on {base} (short links on {base})" in said
