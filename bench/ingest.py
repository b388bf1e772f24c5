"""Benchmark of site events: the batched writer into SQLite, and `POST /e` over HTTP.

    flock /tmp/fm-bench.lock .venv/bin/python bench/ingest.py [--events 100000] [--seconds 5]

1. writer: RawEvents (as `POST /e` queues them) go through the EventWriter into a fresh SQLite
   file; the clock stops when every row is committed. Events/s with every row written.
2. http: first a bare Starlette `POST /e` that parses the JSON and answers 202 (bench/apps.py),
   then `firstmark serve`, each on CPU 0 under `wrk -t1 -c64` posting text/plain event bodies
   from CPU 1 for `--seconds`, as real traffic arrives: the rate limiter on (its default
   rate), every request from another client address (X-Forwarded-For from a trusted proxy).
   firstmark builds visits as it writes. Then the server is stopped (it drains) and the rows
   and visits are counted, so every 202 is checked to have become a row. `--rate-limit-off`
   gives the earlier run: one address, the limiter off, no baseline. Besides req/s, each
   server's CPU time per event is shown (steadier than req/s on a shared machine): the bare
   route's over the wrk run, firstmark's from the start of the run until it has drained and
   exited, per row stored (so the writer's work counts). The ratio is checked against the
   target (issue 14): at least 10,000 events/s and at least 1.0x the bare route.
3. the size of fm.js and fm-phone.js, raw and gzipped (level 9, as served).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from firstmark.domain.clicks import ClickSigner  # noqa: E402
from firstmark.domain.consent import Consent  # noqa: E402
from firstmark.domain.events import RawEvent, parse  # noqa: E402
from firstmark.domain.sites import Site, new_key  # noqa: E402
from firstmark.geo import GeoLookup  # noqa: E402
from firstmark.ingest.events import EventWriter, GoalCache  # noqa: E402
from firstmark.store import SQLiteStore  # noqa: E402

UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
PATHS = [f"/products/{i}" for i in range(50)]
TARGET_EVENTS_PER_S = 10_000
TARGET_RATIO_BARE = 1.0


async def bench_writer(total: int, folder: Path) -> tuple[float, int]:
    store = SQLiteStore(f"sqlite:///{folder / 'writer.db'}")
    await store.open()
    await store.migrate()
    site = await store.insert_site(Site("bench", new_key(), ("shop.example",)))
    assert site.id is not None
    granted = Consent(analytics=True)
    inputs = [
        parse(
            {
                "site": site.key,
                "type": "pageview",
                "url": f"https://shop.example{p}",
                "referrer": "https://news.example/",
                "vid": f"visitor-{i:06d}",
            }
        )
        for i, p in enumerate(PATHS * 20)
    ]
    writer = EventWriter(store, GeoLookup(""), ClickSigner("bench"), GoalCache(store))
    writer.start()
    started = time.perf_counter()
    for n in range(total):
        given = inputs[n % len(inputs)]
        raw = RawEvent(given, site.id, granted, time.time(), f"203.0.{n % 200}.{n % 250}", UA)
        if not writer.offer(raw):
            await writer.put(raw)
    await writer.stop()
    elapsed = time.perf_counter() - started
    written = await store.count_events()
    await store.close()
    return total / elapsed, written


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Each request from another client address, in another /24 (the rate limiter's unit), as a
# proxy in front of firstmark reports it.
_DISTINCT_CLIENTS = """
counter = 0
request = function()
  counter = counter + 1
  local n = counter
  wrk.headers["X-Forwarded-For"] = string.format("%d.%d.%d.%d",
    11 + math.floor(n / 65536) % 200, math.floor(n / 256) % 256, n % 256, 7)
  return wrk.format()
end
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process, all its threads (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After "(comm)": state is field 3 of stat(5), so utime (14) and stime (15) are [11], [12].
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _exit_cpu(process: subprocess.Popen[bytes], timeout: float) -> float:
    """Wait for `process` to exit; its whole CPU time (user + system), from wait4's rusage."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(process.args, timeout)
        time.sleep(0.02)


def _wait_ready(port: int, path: str = "/readyz") -> None:
    import httpx

    for _ in range(400):
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}")
            return
        except httpx.TransportError:
            time.sleep(0.05)


def _wrk(wrk: str, pin: bool, lua: Path, seconds: int, port: int) -> tuple[str, float, int, int]:
    command = [
        *(["taskset", "-c", "1"] if pin else []), wrk, "-t1", "-c64", f"-d{seconds}s",
        "-s", str(lua), f"http://127.0.0.1:{port}/e",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", result).group(1))  # type: ignore[union-attr]
    sent = int(re.search(r"(\d+) requests in", result).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", result)
    return " ".join(command), rate, sent, int(bad.group(1)) if bad else 0


def bench_http(seconds: int, folder: Path, real: bool = True) -> dict[str, float]:
    """firstmark's `POST /e`, then (with `real`) a bare Starlette route parsing the same JSON,
    under the same load in the same run. `real`: the rate limiter on (the default rate), every
    request from another address through a trusted proxy."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return {}
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTMARK_")}
    env.update(
        FIRSTMARK_DATABASE_URL=f"sqlite:///{folder / 'http.db'}",
        FIRSTMARK_SECRET_KEY="bench",
        FIRSTMARK_BASE_URL=f"http://127.0.0.1:{port}",
        FIRSTMARK_LOG_LEVEL="warning",
    )
    if real:
        env["FIRSTMARK_TRUSTED_PROXIES"] = "127.0.0.1/32"
    else:
        env["FIRSTMARK_EVENT_RATE_LIMIT"] = "0"
    fm = [sys.executable, "-m", "firstmark"]
    out = subprocess.run([*fm, "site", "add", "--host", "shop.example", "--json"], env=env,
                         cwd=folder, capture_output=True, text=True, check=True)  # fmt: skip
    key = json.loads(out.stdout)["key"]
    pin = bool(shutil.which("taskset")) and (os.cpu_count() or 1) > 1
    taskset = ["taskset", "-c", "0"] if pin else []
    body = json.dumps({"site": key, "type": "pageview", "url": "https://shop.example/p"})
    lua = folder / "post.lua"
    lua.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"\n'
        'wrk.headers["Origin"] = "https://shop.example"\n'
        f'wrk.headers["User-Agent"] = "{UA}"\n' + (_DISTINCT_CLIENTS if real else "")
    )
    results: dict[str, float] = {}
    if real:
        bare = subprocess.Popen(
            [*taskset, sys.executable, str(ROOT / "bench" / "apps.py"), "ingest", str(port)],
            env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_ready(port, "/")
            before = cpu_seconds(bare.pid)
            _, results["bare_req_per_s"], done, results["bare_non_2xx"] = _wrk(
                wrk, pin, lua, seconds, port
            )
            results["bare_us_per_event"] = (cpu_seconds(bare.pid) - before) * 1e6 / max(done, 1)
        finally:
            bare.send_signal(signal.SIGTERM)
            bare.wait(30)
    server = subprocess.Popen(
        [*taskset, *fm, "serve", "--port", str(port)],
        env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_ready(port)
        before = cpu_seconds(server.pid)
        command, rate, sent, bad = _wrk(wrk, pin, lua, seconds, port)
        stop = time.perf_counter()
        server.send_signal(signal.SIGTERM)
        used = _exit_cpu(server, 120) - before  # the load, then the drain and the exit
        drained = time.perf_counter() - stop
    finally:
        if server.poll() is None:
            server.kill()
    with sqlite3.connect(folder / "http.db") as conn:
        rows = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
    conn.close()
    results.update(
        {
            "req_per_s": rate,
            "requests": sent,
            "non_2xx": bad,
            "rows": rows,
            "visits": visits,
            "drain_s": drained,
            "us_per_event": used * 1e6 / max(rows, 1),
            "command": command,  # type: ignore[dict-item]
        }
    )
    return results


def print_targets(http: dict[str, float]) -> None:
    """Measured against issue 14's target, as bench/redirect.py prints its own."""
    goals = [
        ("POST /e events/s", f"{http['req_per_s']:,.0f}", f">= {TARGET_EVENTS_PER_S:,}",
         http["req_per_s"] >= TARGET_EVENTS_PER_S),
    ]  # fmt: skip
    if "bare_req_per_s" in http:
        ratio = http["req_per_s"] / http["bare_req_per_s"]
        cpu = http["bare_us_per_event"] / http["us_per_event"]
        goals.append(("req/s firstmark / bare", f"{ratio:.2f}", f">= {TARGET_RATIO_BARE:g}",
                      ratio >= TARGET_RATIO_BARE))  # fmt: skip
        goals.append(("CPU/event bare / firstmark", f"{cpu:.2f}", f">= {TARGET_RATIO_BARE:g}",
                      cpu >= TARGET_RATIO_BARE))  # fmt: skip
    print(f"  {'target':<30} {'measured':>10} {'target':>10}  result")
    for what, shown, target, ok in goals:
        print(f"  {what:<30} {shown:>10} {target:>10}  {'PASS' if ok else 'MISS'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument(
        "--rate-limit-off", action="store_true",
        help="HTTP without the rate limiter, one client address, no baseline (the old run)",
    )  # fmt: skip
    args = parser.parse_args()
    for name in ("fm.js", "fm-phone.js"):
        script = (ROOT / "static" / name).read_bytes()
        zipped = len(gzip.compress(script, 9, mtime=0))
        print(f"{name}: {len(script)} bytes, {zipped} bytes gzipped")
    with tempfile.TemporaryDirectory(prefix="fm-ingest-") as tmp:
        folder = Path(tmp)
        rate, written = asyncio.run(bench_writer(args.events, folder))
        print(f"writer: {args.events:,} events in SQLite at {rate:,.0f} events/s "
              f"({written:,} rows written)")  # fmt: skip
        http = bench_http(args.seconds, folder, real=not args.rate_limit_off)
        if not http:
            print("http: skipped (wrk is not installed)")
        else:
            print(
                f"http: POST /e {http['req_per_s']:,.0f} req/s over {args.seconds} s "
                f"({http['requests']:,} requests, {http['non_2xx']} non-2xx); "
                f"{http['rows']:,} rows stored in {http['visits']:,} visits, drained "
                f"{http['drain_s']:.2f} s after load; {http['us_per_event']:.1f} CPU us/event "
                f"(load, drain and exit, per row)"
            )
            if "bare_req_per_s" in http:
                print(
                    f"  bare Starlette POST /e (parse JSON, 202): {http['bare_req_per_s']:,.0f} "
                    f"req/s ({http['bare_non_2xx']:.0f} non-2xx); "
                    f"{http['bare_us_per_event']:.1f} CPU us/event"
                )
            print(f"  command: {http['command']}")
            print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            print_targets(http)
    print(f"  cmd: flock /tmp/fm-bench.lock {sys.executable} bench/ingest.py "
          f"--events {args.events} --seconds {args.seconds}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
