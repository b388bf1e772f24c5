"""Benchmark of call tracking: signed voice webhooks, and DNI leases from a 1,000-number pool.

    flock /tmp/fm-bench.lock .venv/bin/python bench/calls.py [--rate 500] [--seconds 10]

`firstmark serve` (SQLite, CPU 0) with 100 tracking numbers; the load comes from this process
on CPU 1, written as raw HTTP/1.1 over 32 keep-alive sockets (an HTTP client library would
spend more CPU per request than the server does).

1. webhooks, paced: Twilio voice webhooks (signed with the official `twilio` validator) and the
   dial-action callback of each call (75 s of talk: a conversion with its outbox rows), sent
   open-loop at `--rate` requests/s. Latency counts from when each request was due, so time
   spent waiting behind a slow answer counts too (no coordinated omission). Target: p99 < 20 ms
   at 500/s.
2. webhooks, flat out: as many more, 32 in flight: replies/s.
3. DNI, flat out: `GET /n` for a 1,000-number pool, 32 in flight, in rounds of 1,000 requests
   that each take a new lease (between rounds the bench frees the pool in the database, as 30
   minutes passing would). Target: >= 2,000 leases/s.
Afterwards the rows are counted: every call and every qualified call's conversion is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-twilio-auth-token"
NUMBERS = 100
POOL = 1000
Request = tuple[str, str, dict[str, str], bytes]  # method, path, headers, body


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tracking(i: int) -> str:
    return f"+1415555{i:04d}"


def setup(env: dict[str, str], folder: Path) -> str:
    """Numbers, a pool and a site, made with the CLI as an operator would; the site key."""
    fm = [sys.executable, "-m", "firstmark"]

    def run(*args: str) -> str:
        done = subprocess.run([*fm, *args], env=env, cwd=folder, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"firstmark {' '.join(args)}: {done.stderr}")
        return done.stdout

    import json

    key = json.loads(run("site", "add", "--host", "shop.example", "--json"))["key"]
    # Registering 1,100 numbers one command at a time would take minutes; one process does it.
    script = f"""
import asyncio, time
from firstmark.config import from_env
from firstmark.services.numbers import register, set_pool
from firstmark.store import create_store

async def main():
    store = create_store(from_env().database_url)
    await store.open()
    await store.migrate()
    now = time.time()
    for i in range({NUMBERS}):
        await register(store, {{"number": "{tracking(0)[:-4]}%04d" % i, "provider": "twilio",
                               "forward_to": "+14155550199", "qualify_seconds": 60}}, now)
    for i in range({POOL}):
        await register(store, {{"number": "+1212555%04d" % i, "provider": "twilio",
                               "forward_to": "+14155550199", "pool": "website"}}, now)
    await set_pool(store, "website", {{"site": "{key}", "fallback": "+14155550100"}}, now)
    await store.close()

asyncio.run(main())
"""
    subprocess.run([sys.executable, "-c", script], env=env, cwd=folder, check=True)
    return str(key)


def webhook_requests(base: str, count: int) -> list[Request]:
    """`count` requests: each call's voice webhook, and 10 requests later its dial action."""
    validator = RequestValidator(TOKEN)

    def signed(path: str, params: dict[str, str]) -> Request:
        signature = validator.compute_signature(base + path, params)
        headers = {
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": signature,
        }
        return ("POST", path, headers, urlencode(params).encode())

    out: list[Request] = []
    calls = count // 2
    for k in range(calls + 5):
        sid = f"CA{k:032x}"
        params = {"CallSid": sid, "From": f"+1646555{k % 10000:04d}", "To": tracking(k % NUMBERS),
                  "CallStatus": "ringing", "Direction": "inbound"}  # fmt: skip
        out.append(signed("/hooks/twilio/voice", params))
        if k >= 5:
            done = {**params, "CallSid": f"CA{k - 5:032x}", "DialCallStatus": "completed",
                    "DialCallDuration": "75", "CallStatus": "in-progress"}  # fmt: skip
            out.append(signed("/hooks/twilio/dial", done))
    return out[:count]


def dni_requests(site: str, count: int) -> list[Request]:
    headers = {"origin": "https://shop.example"}
    query = {"site": site, "utm_source": "google", "utm_medium": "cpc", "utm_campaign": "bench",
             "analytics_storage": "granted"}  # fmt: skip
    return [("GET", f"/n?{urlencode(query)}", headers, b"") for _ in range(count)]


def wire(port: int, requests: list[Request]) -> list[bytes]:
    return [
        f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n".encode()
        + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
        for method, path, headers, body in requests
    ]


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one request on a keep-alive connection and read its answer: the status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(head[9:12])


async def paced(
    port: int, requests: list[Request], rate: float, connections: int = 32
) -> tuple[list[float], int]:
    """Open loop over plain keep-alive sockets (an HTTP client library would cost more CPU
    than the server): request i is due at start + i/rate, and its latency counts from then,
    so a slow answer delays the requests behind it only as much as it would a real caller."""
    raw = wire(port, requests)
    latencies: list[float] = []
    errors = 0
    next_one = 0
    start = time.perf_counter() + 0.2

    async def worker() -> None:
        nonlocal errors, next_one
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_one < len(raw):
                i = next_one
                next_one += 1
                due = start + i / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                status = await _exchange(reader, writer, raw[i])
                latencies.append(time.perf_counter() - due)
                errors += status >= 400
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies, errors


async def raw_flat_out(
    port: int, requests: list[Request], inflight: int = 32
) -> tuple[float, int, int]:
    """Closed loop: `inflight` requests at all times until they run out: (req/s, sent,
    errors)."""
    raw = wire(port, requests)
    sent = errors = 0
    next_one = 0

    async def worker() -> None:
        nonlocal sent, errors, next_one
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_one < len(raw):
                request = raw[next_one]
                next_one += 1
                errors += await _exchange(reader, writer, request) >= 400
                sent += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(inflight)))
    return sent / (time.perf_counter() - start), sent, errors


def dni_rounds(port: int, site: str, database: Path, rounds: int) -> tuple[float, int, int]:
    """Rounds of POOL lease requests; the pool is freed between rounds (not timed)."""
    elapsed = 0.0
    sent = errors = 0
    for _ in range(rounds):
        start = time.perf_counter()
        _, done, bad = asyncio.run(raw_flat_out(port, dni_requests(site, POOL)))
        elapsed += time.perf_counter() - start
        sent += done
        errors += bad
        with sqlite3.connect(database, timeout=30) as db:
            leased = db.execute(
                "SELECT count(*) FROM numbers WHERE pool = 'website' AND leased_until > ?",
                (time.time(),),
            ).fetchone()[0]
            errors += POOL - leased  # a request that did not get a number of its own
            db.execute("UPDATE numbers SET leased_until = 0, lease_id = NULL")
        db.close()
    return sent / elapsed, sent, errors


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    pin = shutil.which("taskset") and (os.cpu_count() or 1) > 1
    folder = Path(tempfile.mkdtemp(prefix="fm-calls-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTMARK_")}
    env.update(
        FIRSTMARK_DATABASE_URL=f"sqlite:///{folder / 'calls.db'}",
        FIRSTMARK_SECRET_KEY="bench",
        FIRSTMARK_BASE_URL=base,
        FIRSTMARK_TWILIO_AUTH_TOKEN=TOKEN,
        FIRSTMARK_EVENT_RATE_LIMIT="0",
        FIRSTMARK_DNI_RATE_LIMIT="0",
        FIRSTMARK_LOG_LEVEL="warning",
        FIRSTMARK_FORWARD_ENABLED="false",
    )
    print(f"setting up {NUMBERS} numbers and a {POOL}-number pool …", flush=True)
    site = setup(env, folder)
    command = [sys.executable, "-m", "firstmark", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*(["taskset", "-c", "0"] if pin else []), *command],
        env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    if pin:
        os.sched_setaffinity(0, {1})
    results: dict[str, Any] = {}
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        count = int(args.rate * args.seconds)
        hooks = webhook_requests(base, count * 2)
        latencies, errors = asyncio.run(paced(port, hooks[:count], args.rate))
        results["paced"] = (latencies, errors)
        results["hooks"] = asyncio.run(raw_flat_out(port, hooks[count:]))
        results["dni"] = dni_rounds(port, site, folder / "calls.db", rounds=5)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    with sqlite3.connect(folder / "calls.db") as db:
        stored = db.execute("SELECT count(*), count(conversion_id) FROM calls").fetchone()
        conversions = db.execute("SELECT count(*) FROM conversions WHERE source='call'").fetchone()
        leases = db.execute("SELECT count(*) FROM number_leases").fetchone()[0]
    db.close()
    shutil.rmtree(folder, ignore_errors=True)

    latencies, errors = results["paced"]
    ms = [x * 1000 for x in latencies]
    print(f"\nwebhooks paced at {args.rate:.0f}/s for {args.seconds:.0f} s ({len(ms)} requests)")
    print(f"  p50 {statistics.median(ms):.2f} ms  p90 {percentile(ms, 90):.2f} ms  "
          f"p99 {percentile(ms, 99):.2f} ms  max {max(ms):.2f} ms  errors {errors}")  # fmt: skip
    rate, sent, errors = results["hooks"]
    print(f"webhooks flat out (32 in flight): {rate:,.0f} replies/s ({sent} sent, {errors} errors)")
    rate, sent, errors = results["dni"]
    print(f"DNI leases flat out (32 in flight, {POOL}-number pool): {rate:,.0f} leases/s "
          f"({sent} sent, {errors} errors)")  # fmt: skip
    print(f"stored: {stored[0]} calls, {stored[1]} qualified; {conversions[0]} call conversions; "
          f"{leases} leases")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
