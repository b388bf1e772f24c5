"""Measure how CPU-heavy requests delay redirects: redirect latency (p50, p99, max) on a real
server, idle and while clients hammer dashboard logins and QR codes with a large logo.

Usage (from the repository root):

    flock /tmp/fm-bench.lock .venv/bin/python bench/looplag.py [--seconds 8] [--clients 4]
                                                               [--json]

Starts `firstmark serve` on SQLite in a temporary folder, creates a link and uploads a
1,000 x 1,000 PNG logo (about 40 KB, 3 MB decoded). Then one client clicks the link every
5 ms over one keep-alive connection and records each redirect's latency: first with nothing
else running ("idle"), then while `--clients` processes (half logging in to the dashboard
with the right password, half fetching `/api/v1/links/{id}/qr?format=png&logo=…`) send
requests back to back ("loaded"). Each hammering client is its own process, so the measuring
client does not share a GIL with them. Prints the table, the server's
`firstmark_event_loop_lag_seconds` lines when it has them, and the command line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import re
import shlex
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
PASSWORD = "looplag-password-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def big_logo(side: int = 1000) -> bytes:
    """An RGB PNG whose rows use the Sub filter: tiny on disk, slow to decode in pure Python."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        return struct.pack(">I", len(body)) + kind + body + crc

    row = b"\x01" + bytes([200, 30, 30]) + bytes([1, 2, 3]) * (side - 1)
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * side, 9))
        + chunk(b"IEND", b"")
    )


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def login_loop(port: int, stop_at: float, counts: Any) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    while time.time() < stop_at:
        status, headers, page = request(conn, "GET", "/dashboard/login")
        cookie = headers.get("set-cookie", "").split(";")[0]
        found = re.search(rb'name="csrf" value="([^"]+)"', page)
        if status != 200 or not found:
            raise SystemExit(f"login page answered {status}")
        form = f"csrf={found.group(1).decode()}&username=admin&password={PASSWORD}&next="
        status, _, _ = request(
            conn,
            "POST",
            "/dashboard/login",
            form.encode(),
            {"content-type": "application/x-www-form-urlencoded", "cookie": cookie},
        )
        if status != 303:
            raise SystemExit(f"login answered {status}")
        with counts.get_lock():
            counts[0] += 1


def qr_loop(port: int, stop_at: float, path: str, key: str, counts: Any) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    while time.time() < stop_at:
        status, _, _ = request(conn, "GET", path, headers={"authorization": f"Bearer {key}"})
        if status != 200:
            raise SystemExit(f"QR answered {status}")
        with counts.get_lock():
            counts[1] += 1


def click_latencies(port: int, seconds: float, every: float = 0.005) -> list[float]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    out: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        status, _, _ = request(conn, "GET", "/lag")
        out.append(time.perf_counter() - start)
        if status != 302:
            raise SystemExit(f"the redirect answered {status}")
        time.sleep(max(0.0, every - (time.perf_counter() - start)))
    return out


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(p99 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTMARK_")}
        env.update(
            FIRSTMARK_DATABASE_URL=f"sqlite:///{Path(folder) / 'fm.db'}",
            FIRSTMARK_SECRET_KEY="bench-looplag-not-a-secret",
            FIRSTMARK_BASE_URL=f"http://{HOST}:{port}",
            FIRSTMARK_LOG_LEVEL="warning",
        )
        cli = [sys.executable, "-m", "firstmark"]
        done = subprocess.run(
            [*cli, "init", "--password", PASSWORD],
            cwd=folder, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        key = done.stdout.strip()
        log = (Path(folder) / "server.log").open("wb")
        server = subprocess.Popen(
            [*cli, "serve", "--host", HOST, "--port", str(port)],
            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            for _ in range(200):
                try:
                    conn = http.client.HTTPConnection(HOST, port, timeout=2)
                    if request(conn, "GET", "/readyz")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.05)
            auth = {"authorization": f"Bearer {key}", "content-type": "application/json"}
            link = {"destination": "https://example.com/landing", "code": "lag"}
            payload = json.dumps(link).encode()
            status, _, body = request(conn, "POST", "/api/v1/links", payload, auth)
            assert status == 201, body
            link_id = json.loads(body)["id"]
            auth["content-type"] = "image/png"
            status, _, body = request(conn, "POST", "/api/v1/qr/logos", big_logo(), auth)
            assert status == 201, body
            logo_id = json.loads(body)["id"]
            qr_path = f"/api/v1/links/{link_id}/qr?format=png&logo={logo_id}&logo_size=30"

            click_latencies(port, 1.0)  # warm the link cache
            idle = summary(click_latencies(port, args.seconds))

            counts = multiprocessing.Array("i", 2)
            stop_at = time.time() + args.seconds + 2
            workers = [
                multiprocessing.Process(
                    target=login_loop if i % 2 == 0 else qr_loop,
                    args=(port, stop_at, counts)
                    if i % 2 == 0
                    else (port, stop_at, qr_path, key, counts),
                )
                for i in range(args.clients)
            ]
            for worker in workers:
                worker.start()
            time.sleep(1.0)
            loaded = summary(click_latencies(port, args.seconds))
            for worker in workers:
                worker.join()
            fresh = http.client.HTTPConnection(HOST, port, timeout=10)
            _, _, metrics = request(fresh, "GET", "/metrics")
            lag = [
                line
                for line in metrics.decode().splitlines()
                if line.startswith("firstmark_event_loop_lag")
            ]
        finally:
            server.terminate()
            server.wait(30)
            log.close()

    result = {
        "idle": idle,
        "loaded": loaded,
        "logins": counts[0],
        "qr_renders": counts[1],
        "clients": args.clients,
        "seconds": args.seconds,
        "loop_lag_metrics": lag,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'redirects':<10} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, row in (("idle", idle), ("loaded", loaded)):
        print(
            f"{name:<10} {row['requests']:>9} {row['p50_ms']:>8} {row['p99_ms']:>8} "
            f"{row['max_ms']:>8}"
        )
    print(f"while loaded: {counts[0]} logins, {counts[1]} QR renders by {args.clients} clients")
    for line in lag:
        print(line)
    print(f"$ {result['command']}")


if __name__ == "__main__":
    main()
