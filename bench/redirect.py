"""Load-test the redirect path with wrk: firstmark against a bare Starlette and a raw ASGI app.

Usage (from the repository root; needs wrk: `apt-get install wrk`):

    .venv/bin/python bench/redirect.py [--duration 10] [--connections 64] [--links 100]
                                       [--rounds 3] [--db sqlite:////path/fm.db] [--json [FILE]]
                                       [--split]

One run does everything, one server at a time (never two at once):

1. starts `firstmark serve` in a temporary folder on a free loopback port, runs `firstmark init`
   for an admin key and creates `--links` links (codes b000, b001, ...) through the API (with
   `--split`, A/B links sending half their visitors to a second destination);
2. warms it up, then drives it with `wrk -t1 -c64 -d10s --latency` and a Lua `request()` that
   walks the codes round-robin, with a browser User-Agent so every hit is a human click;
3. serves two baselines the same way (uvicorn, same options; see bench/apps.py): a Starlette
   `Route('/{code}')` returning a `RedirectResponse`, and a raw ASGI app answering 302;
4. repeats 1-3 for `--rounds` rounds, reversing the order every other round, and reports the
   median round of each server (a small VM's throughput moves a lot from run to run);
5. in the last round, runs wrk against firstmark again at about half of its median rate (a Lua
   `delay()` per connection paces the requests; short calibration runs find the delay that
   gives the rate; delays are exponential with the right mean, so arrivals are Poisson-like
   rather than 64 connections firing in lock-step) and reports p50/p99 there;
6. after each firstmark round, reads the server's peak RSS (VmHWM in /proc), stops it
   gracefully (SIGINT, so the hit writer drains) and counts the rows in `hits` against the
   requests wrk completed.

With two or more CPUs and `taskset` available, servers run on CPU 0 and wrk on CPU 1. Besides
req/s and latency, each row shows the server's CPU time per request, which is steadier than
req/s on a noisy machine. The numbers in docs/performance.md come from this script.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
APPS = Path(__file__).resolve().with_name("apps.py")
SERVER_CPU = "0"
CLIENT_CPU = "1"
BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
DESTINATION = "https://example.com/p?x=1"
DESTINATION_B = "https://example.com/q?x=2"
HIT_SETTINGS = ("FIRSTMARK_HIT_FLUSH_MS", "FIRSTMARK_HIT_BATCH", "FIRSTMARK_HIT_BUFFER")
HIT_DEFAULTS = {"FIRSTMARK_HIT_FLUSH_MS": "50", "FIRSTMARK_HIT_BATCH": "1000"}
HIT_DEFAULTS["FIRSTMARK_HIT_BUFFER"] = "10000"

TARGET_RATIO_STARLETTE = 1.3
TARGET_RATIO_RAW = 0.5
TARGET_HALF_P99_MS = 10.0
TARGET_RSS_MB = 120.0


class BenchError(RuntimeError):
    pass


# --- wrk --------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    label: str
    command: str
    requests: int = 0
    duration_s: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p75_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    non_2xx_3xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    target_rps: float | None = None
    mean_delay_ms: float | None = None
    server_cpu: float | None = None  # CPU seconds / wall seconds of the server process
    server_us_per_request: float | None = None  # server CPU microseconds per completed request
    wrk_cpu: float | None = None  # CPU seconds / wall seconds of wrk

    @property
    def errors(self) -> int:
        return sum(self.socket_errors.values())


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.M)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_NON_OK = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", re.M)
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.M)


def parse_wrk(output: str, label: str, command: str) -> WrkResult:
    """Numbers from wrk's text report (run with --latency)."""
    result = WrkResult(label, command)
    total = _TOTAL.search(output)
    rps = _RPS.search(output)
    percentiles = {p: float(v) * _UNITS_MS[u] for p, v, u in _PERCENTILE.findall(output)}
    if total is None or rps is None or not {"50", "99"} <= percentiles.keys():
        raise BenchError(f"could not read wrk's report:\n{output}")
    result.requests = int(total.group(1))
    result.duration_s = float(total.group(2)) * _UNITS_MS[total.group(3)] / 1000
    result.rps = float(rps.group(1))
    result.p50_ms = percentiles["50"]
    result.p75_ms = percentiles.get("75", 0.0)
    result.p90_ms = percentiles.get("90", 0.0)
    result.p99_ms = percentiles["99"]
    if non_ok := _NON_OK.search(output):
        result.non_2xx_3xx = int(non_ok.group(1))
    names = ("connect", "read", "write", "timeout")
    if sock := _SOCKET.search(output):
        result.socket_errors = dict(zip(names, map(int, sock.groups()), strict=True))
    else:
        result.socket_errors = dict.fromkeys(names, 0)
    return result


# Real traffic: browsers of several kinds, each click from an address of its own.
BROWSER_UAS = (
    BROWSER_UA,
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
)
TRAFFIC = ("real", "one-client")


def lua_script(
    paths: list[str],
    mean_delay_ms: float | None,
    pacing: str,
    seed: int,
    *,
    traffic: str = "one-client",
    referer: str = "",
) -> str:
    """request() walks `paths` round-robin; with a mean delay, delay() paces each connection.

    With `traffic="real"`, every request also comes from a client address of its own (an
    `X-Forwarded-For` that no other request of the run carries, spread over the IPv4 space so
    the country lookup sees many networks) with one of several browser User-Agents, as clicks
    reach a link server behind a load balancer. `referer`, when given, is sent with every
    request (it tags the run's rows).

    wrk waits delay() milliseconds (whole ones) after a response before a connection sends its
    next request, and does not count that wait as latency. The fractional part is rounded up
    at random so the mean is exact; with `poisson` pacing each delay is drawn from an
    exponential distribution, so the connections drift apart instead of firing together.
    """
    quoted = ", ".join(f'"{p}"' for p in paths)
    lines = [
        "-- generated by bench/redirect.py",
        f"local paths = {{{quoted}}}",
        "local n = #paths",
        "local i = 0",
        "local headers = {}",
    ]
    if referer:
        lines.append(f'headers["Referer"] = "{referer}"')
    if traffic == "real":
        agents = ", ".join(f'"{ua}"' for ua in BROWSER_UAS)
        lines += [
            f"local agents = {{{agents}}}",
            "local threads = 1  -- thread_no is a global that setup() gives each thread",
            "local count = 0",
            "setup = function(thread)",
            "  thread:set('thread_no', threads - 1)",
            "  threads = threads + 1",
            "end",
            "init = function(args)",
            f"  count = {seed * 10_000_000}  -- each run of the script starts elsewhere",
            "  for k, v in pairs(wrk.headers) do headers[k] = v end",
            "end",
            "-- c -> c * 40503 mod 2^32 is one-to-one: every request of the run gets its own",
            "-- address (for the first 2^32 / threads requests of each thread).",
            "local function address(c)",
            "  local x = (c * 40503) % 4294967296",
            "  local a = math.floor(x / 16777216)",
            "  local b = math.floor(x / 65536) % 256",
            "  local d = math.floor(x / 256) % 256",
            "  return a .. '.' .. b .. '.' .. d .. '.' .. (x % 256)",
            "end",
            "request = function()",
            "  i = i % n + 1",
            "  count = count + 1",
            "  local c = count * 64 + (thread_no or 0)",
            "  headers['X-Forwarded-For'] = address(c)",
            "  headers['User-Agent'] = agents[c % #agents + 1]",
            "  return wrk.format(nil, paths[i], headers)",
            "end",
        ]
    else:
        lines += [
            "init = function(args)",
            "  for k, v in pairs(wrk.headers) do headers[k] = v end",
            "end",
            "request = function()",
            "  i = i % n + 1",
            "  return wrk.format(nil, paths[i], headers)",
            "end",
        ]
    if mean_delay_ms is not None:
        draw = "-mean * math.log(1 - math.random())" if pacing == "poisson" else "mean"
        lines += [
            f"math.randomseed({seed})",
            f"local mean = {mean_delay_ms:.6f}",
            "delay = function()",
            f"  local d = {draw}",
            "  local whole = math.floor(d)",
            "  if math.random() < d - whole then whole = whole + 1 end",
            "  return whole",
            "end",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Wrk:
    pin: list[str]
    threads: int
    connections: int
    user_agent: str
    scripts: Path
    log: IO[str]
    traffic: str = "real"
    runs: list[WrkResult] = field(default_factory=list)

    def run(
        self,
        label: str,
        port: int,
        paths: list[str],
        duration: int,
        *,
        server_pid: int | None = None,
        mean_delay_ms: float | None = None,
        pacing: str = "poisson",
        referer: str = "",
        timeout: float | None = None,
    ) -> WrkResult:
        script = self.scripts / f"wrk-{len(self.runs) + 1:02d}.lua"
        script.write_text(
            lua_script(
                paths,
                mean_delay_ms,
                pacing,
                seed=len(self.runs) + 1,
                traffic=self.traffic,
                referer=referer,
            )
        )
        argv = [
            *self.pin,
            "wrk",
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{duration}s",
            "--latency",
            *([f"--timeout={timeout:g}s"] if timeout else []),
            "-s",
            str(script),
            "-H",
            f"User-Agent: {self.user_agent}",
            f"http://{HOST}:{port}/",
        ]
        command = shlex.join(argv)
        server_before = cpu_seconds(server_pid)
        wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
        wall = time.monotonic() - started
        wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_after = cpu_seconds(server_pid)
        self.log.write(f"$ {command}\n{done.stdout}{done.stderr}\n")
        self.log.flush()
        if done.returncode != 0:
            raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        result = parse_wrk(done.stdout, label, command)
        result.mean_delay_ms = mean_delay_ms
        if server_before is not None and server_after is not None:
            result.server_cpu = (server_after - server_before) / wall
            if result.requests:
                result.server_us_per_request = (
                    (server_after - server_before) * 1e6 / result.requests
                )
        wrk_used = (wrk_after.ru_utime + wrk_after.ru_stime) - (
            wrk_before.ru_utime + wrk_before.ru_stime
        )
        result.wrk_cpu = wrk_used / wall
        self.runs.append(result)
        return result


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process, all its threads included (/proc/PID/stat)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After "(comm)": state is field 3 of stat(5), so utime (14) and stime (15) are [11], [12].
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def half_load(
    name: str, args: argparse.Namespace, wrk: Wrk, port: int, paths: list[str], pid: int, rps: float
) -> list[WrkResult]:
    """wrk at `args.half` of `rps`. Short calibration runs find the delay() that gives that
    rate (a connection's cycle is its delay plus the response time plus wrk's timer slack),
    then one run of the full duration is measured. All runs are returned, the measured last."""
    target = rps * args.half
    delay = args.connections * 1000 / target
    runs: list[WrkResult] = []

    def one(label: str, seconds: int) -> WrkResult:
        run = wrk.run(
            label, port, paths, seconds, server_pid=pid, mean_delay_ms=delay, pacing=args.pacing
        )
        run.target_rps = target
        runs.append(run)
        progress(
            f"{label}: target {target:,.0f} req/s, mean delay {delay:.2f} ms -> "
            f"{run.rps:,.0f} req/s, p99 {run.p99_ms:.2f} ms"
        )
        return run

    for _ in range(args.calibrate_runs):
        run = one(f"{name} @ half load (calibration)", min(args.calibrate, args.duration))
        if run.rps <= 0:
            raise BenchError(f"{name} answered nothing at half load")
        overhead = args.connections * 1000 / run.rps - delay
        delay = max(args.connections * 1000 / target - overhead, 0.0)
        if abs(run.rps / target - 1) <= 0.02:
            break
    one(f"{name} @ half load", args.duration)
    return runs


# --- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def http_request(
    port: int,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> tuple[int, bytes]:
    """One request on a fresh connection; redirects are not followed."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json"} if data is not None else {}
        all_headers.update(headers or {})
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (scans /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)


class Server:
    """One server subprocess (its output goes to a log file), pinned with taskset if asked."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], cwd: Path, pin: list[str]
    ) -> None:
        self.name = name
        self.argv = [*pin, *argv]
        self.env = env
        self.cwd = cwd
        self.log_path = cwd / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, port: int, ready_path: str, ready_status: int | None, timeout: float) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _ = http_request(port, "GET", ready_path, timeout=1.0)
                if ready_status is None or status == ready_status:
                    return
            time.sleep(0.1)
        raise BenchError(f"{self.name} was not ready after {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def peak_rss(self) -> tuple[int, int, str]:
        """(VmHWM kB, pid, command) of the process in this server's tree with the highest
        peak RSS: `taskset` execs, and `firstmark serve` runs uvicorn in-process, so this is
        normally the started process itself; children (if any) are checked too."""
        best = (0, self.pid, "")
        for pid in [self.pid, *_children(self.pid)]:
            kb = _status_kb(pid, "VmHWM")
            if kb > best[0]:
                best = (kb, pid, _cmdline(pid))
        return best

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = 90.0) -> int | None:
        """Ask the server to stop (uvicorn shuts down gracefully on SIGINT/SIGTERM) and wait."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BenchError(f"{self.name} did not stop within {timeout:.0f} s") from None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# --- firstmark --------------------------------------------------------------------------------


def firstmark_argv() -> list[str]:
    script = Path(sys.executable).with_name("firstmark")
    if script.is_file():
        return [str(script)]
    found = shutil.which("firstmark")
    return [found] if found else [sys.executable, "-m", "firstmark"]


def sqlite_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///")).resolve()


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def count_hits(db_url: str) -> tuple[int, int]:
    """(rows, bot rows) of hits (the hit_details view); (0, 0) if there is no database yet."""
    if is_postgres(db_url):
        import asyncio

        import asyncpg

        async def query() -> tuple[int, int]:
            conn = await asyncpg.connect(db_url)
            try:
                if not await conn.fetchval("SELECT to_regclass('hit_details') IS NOT NULL"):
                    return 0, 0
                row = await conn.fetchrow(
                    "SELECT count(*), count(*) FILTER (WHERE is_bot) FROM hit_details"
                )
                return int(row[0]), int(row[1])
            finally:
                await conn.close()

        return asyncio.run(query())
    if not db_url.startswith("sqlite:///"):
        raise BenchError(f"--db must be a sqlite:/// or postgresql:// URL: {db_url}")
    db = sqlite_file(db_url)
    if not db.exists():
        return 0, 0
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        try:
            row = conn.execute(
                "SELECT count(*), coalesce(sum(is_bot), 0) FROM hit_details"
            ).fetchone()
        except sqlite3.OperationalError:  # not migrated yet
            return 0, 0
    rows, bots = row
    return int(rows), int(bots)


def firstmark_key(env: dict[str, str], cwd: Path) -> str:
    """`firstmark init` prints only the admin key on stdout; on a database that already has
    a user (--db), make a fresh admin key instead."""
    cli = firstmark_argv()
    done = subprocess.run([*cli, "init"], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode == 1 and "already initialised" in done.stderr:
        done = subprocess.run(
            [*cli, "keys", "create", "--scope", "admin", "--name", "bench"],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
        )
    key = done.stdout.strip()
    if done.returncode != 0 or not key or "\n" in key:
        raise BenchError(f"firstmark init failed ({done.returncode}): {done.stderr.strip()}")
    return key


def create_links(port: int, key: str, codes: list[str], split: bool = False) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    for code in codes:
        body: dict[str, Any] = {
            "destination": DESTINATION,
            "code": code,
            "utm_source": "bench",
            "utm_medium": "cpc",
            "utm_campaign": "load",
        }
        if split:
            body["variants"] = [
                {"url": DESTINATION, "weight": 1},
                {"url": DESTINATION_B, "weight": 1},
            ]
        status, text = http_request(port, "POST", "/api/v1/links", body, auth)
        if status == 409:  # an existing --db that already has the code
            continue
        if status != 201:
            raise BenchError(f"creating link {code} answered {status}: {text[:300]!r}")
    status, text = http_request(port, "GET", f"/{codes[0]}", headers={"User-Agent": BROWSER_UA})
    if status != 302:
        raise BenchError(f"GET /{codes[0]} answered {status}, not 302: {text[:300]!r}")


# --- the run ----------------------------------------------------------------------------------


@dataclass
class ServerResult:
    """One server process: started, warmed up, loaded at full speed (and maybe at half), stopped."""

    name: str
    round: int
    full: WrkResult
    peak_rss_kb: int
    rss_pid: int
    rss_command: str
    warmup_requests: int
    exit_code: int | None
    half: WrkResult | None = None
    half_runs: list[WrkResult] = field(default_factory=list)
    hit_rows: int | None = None
    bot_rows: int | None = None
    requests_total: int | None = None


def firstmark_env(port: int, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTMARK_")}
    env.update({k: os.environ[k] for k in HIT_SETTINGS if k in os.environ})
    env.update(
        FIRSTMARK_DATABASE_URL=db_url,
        FIRSTMARK_SECRET_KEY="bench-redirect-not-a-secret",
        FIRSTMARK_BASE_URL=f"http://{HOST}:{port}",
        FIRSTMARK_LOG_LEVEL="warning",
        # As behind a load balancer: X-Forwarded-For from the loopback names the client.
        FIRSTMARK_TRUSTED_PROXIES=HOST,
    )
    return env


def bench_firstmark(
    args: argparse.Namespace,
    wrk: Wrk,
    workdir: Path,
    pin: list[str],
    db_url: str,
    rnd: int,
    half_of: list[float] | None,
) -> ServerResult:
    """One firstmark process on `db_url`; with `half_of` (the full-load rates measured so far,
    this run's included), also the half-load run at `args.half` of their median."""
    port = free_port()
    if not is_postgres(db_url):
        db_url = f"sqlite:///{sqlite_file(db_url)}"
        sqlite_file(db_url).parent.mkdir(parents=True, exist_ok=True)
    rows_before, bots_before = count_hits(db_url)
    env = firstmark_env(port, db_url)
    key = firstmark_key(env, workdir)
    argv = [*firstmark_argv(), "serve", "--host", HOST, "--port", str(port)]
    server = Server("firstmark", argv, env, workdir, pin)
    width = max(3, len(str(args.links - 1)))
    codes = [f"b{i:0{width}d}" for i in range(args.links)]
    paths = [f"/{c}" for c in codes]
    halves: list[WrkResult] = []
    try:
        server.start(port, "/readyz", 200, timeout=30)
        create_links(port, key, codes, split=args.split)
        warm = wrk.run("firstmark warm-up", port, paths, args.warmup, server_pid=server.pid)
        full = wrk.run("firstmark", port, paths, args.duration, server_pid=server.pid)
        progress(f"round {rnd}: firstmark {full.rps:,.0f} req/s, p99 {full.p99_ms:.2f} ms")
        if half_of is not None:
            rate = statistics.median_low([*half_of, full.rps])
            halves = half_load("firstmark", args, wrk, port, paths, server.pid, rate)
        rss_kb, rss_pid, rss_cmd = server.peak_rss()
        exit_code = server.stop(signal.SIGINT)
    finally:
        server.kill()
    rows, bots = count_hits(db_url)
    return ServerResult(
        "firstmark",
        rnd,
        full,
        rss_kb,
        rss_pid,
        rss_cmd,
        warm.requests,
        exit_code,
        half=halves[-1] if halves else None,
        half_runs=halves,
        hit_rows=rows - rows_before,
        bot_rows=bots - bots_before,
        requests_total=warm.requests + full.requests + sum(r.requests for r in halves),
    )


def bench_baseline(
    name: str, args: argparse.Namespace, wrk: Wrk, workdir: Path, pin: list[str], rnd: int
) -> ServerResult:
    port = free_port()
    argv = [sys.executable, str(APPS), name, str(port)]
    server = Server(name, argv, dict(os.environ), workdir, pin)
    paths = [f"/b{i:03d}" for i in range(args.links)]
    halves: list[WrkResult] = []
    try:
        server.start(port, "/b000", 302, timeout=30)
        warm = wrk.run(f"{name} warm-up", port, paths, args.warmup, server_pid=server.pid)
        full = wrk.run(name, port, paths, args.duration, server_pid=server.pid)
        progress(f"round {rnd}: {name} {full.rps:,.0f} req/s, p99 {full.p99_ms:.2f} ms")
        if args.half_all and rnd == args.rounds:
            halves = half_load(name, args, wrk, port, paths, server.pid, full.rps)
        rss_kb, rss_pid, rss_cmd = server.peak_rss()
        exit_code = server.stop(signal.SIGINT, timeout=30)
    finally:
        server.kill()
    return ServerResult(
        name,
        rnd,
        full,
        rss_kb,
        rss_pid,
        rss_cmd,
        warm.requests,
        exit_code,
        half=halves[-1] if halves else None,
        half_runs=halves,
    )


# --- report -----------------------------------------------------------------------------------


@dataclass
class Summary:
    """All rounds of one server; `median` is the round with the median req/s (the lower of
    the two middle ones for an even number of rounds)."""

    name: str
    runs: list[ServerResult]

    @property
    def median(self) -> ServerResult:
        ranked = sorted(self.runs, key=lambda r: r.full.rps)
        return ranked[(len(ranked) - 1) // 2]

    @property
    def rps(self) -> float:
        return self.median.full.rps

    @property
    def half(self) -> ServerResult | None:
        return next((r for r in self.runs if r.half is not None), None)

    @property
    def peak_rss_kb(self) -> int:
        return max(r.peak_rss_kb for r in self.runs)


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages: how busy it was besides this run."""
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk ?"


def pinning(enabled: bool) -> tuple[list[str], list[str], str]:
    """(server prefix, wrk prefix, description)."""
    if not enabled:
        return [], [], "not pinned (--no-pin)"
    cpus = os.sched_getaffinity(0)
    if shutil.which("taskset") is None:
        return [], [], "not pinned (taskset not found)"
    if not {int(SERVER_CPU), int(CLIENT_CPU)} <= cpus:
        return [], [], f"not pinned (needs CPUs {SERVER_CPU} and {CLIENT_CPU}; have {sorted(cpus)})"
    return (
        ["taskset", "-c", SERVER_CPU],
        ["taskset", "-c", CLIENT_CPU],
        f"servers on CPU {SERVER_CPU}, wrk on CPU {CLIENT_CPU} (taskset)",
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def goal(what: str, value: float, shown: str, target: str, ok: bool) -> dict[str, Any]:
    return {"what": what, "value": value, "shown": shown, "target": target, "pass": ok}


def targets(summaries: dict[str, Summary]) -> list[dict[str, Any]]:
    fm = summaries["firstmark"]
    out: list[dict[str, Any]] = []
    for name, label, floor in (
        ("starlette", "starlette", TARGET_RATIO_STARLETTE),
        ("raw", "raw ASGI", TARGET_RATIO_RAW),
    ):
        if name in summaries:
            ratio = fm.rps / summaries[name].rps
            out.append(
                goal(f"req/s firstmark / {label}", round(ratio, 3), f"{ratio:.2f}", f">= {floor}",
                     ratio >= floor)
            )  # fmt: skip
    half = fm.half
    assert half is not None and half.half is not None
    p99 = half.half.p99_ms
    out.append(
        goal(f"firstmark p99 at half load ({half.half.rps:,.0f} req/s)", p99, f"{p99:.2f} ms",
             f"<= {TARGET_HALF_P99_MS:g} ms", p99 <= TARGET_HALF_P99_MS)
    )  # fmt: skip
    mb = fm.peak_rss_kb / 1024
    out.append(
        goal("firstmark peak RSS (VmHWM)", round(mb, 1), f"{mb:.1f} MB",
             f"<= {TARGET_RSS_MB:g} MB", mb <= TARGET_RSS_MB)
    )  # fmt: skip
    rows = sum(r.hit_rows or 0 for r in fm.runs)
    diff = rows - sum(r.requests_total or 0 for r in fm.runs)
    out.append(goal("hit rows >= requests wrk completed", diff, f"{diff:+,}", ">= 0", diff >= 0))
    return out


def _fmt(value: float | None, spec: str) -> str:
    return format(value, spec) if value is not None else "-"


def _row(label: str, r: WrkResult, rss_kb: int | None, spread: str = "") -> str:
    rss = f"{rss_kb / 1024:.1f}" if rss_kb is not None else ""
    return (
        f"{label:<22} {r.rps:>8,.0f} {spread:>15} {r.p50_ms:>6.2f} {r.p99_ms:>6.2f} "
        f"{r.requests:>9,} {r.non_2xx_3xx + r.errors:>5,} {_fmt(r.server_cpu, '.0%'):>5} "
        f"{_fmt(r.server_us_per_request, '.1f'):>6} {_fmt(r.wrk_cpu, '.0%'):>5} {rss:>6}"
    )


def report(
    command: str,
    meta: dict[str, Any],
    summaries: dict[str, Summary],
    goals: list[dict[str, Any]],
) -> None:
    versions = meta["versions"]
    print(f"$ {command}")
    print(
        f"# {meta['date']}, {meta['cpu']} ({meta['cpus']} CPUs), Linux {meta['kernel']}, "
        f"Python {meta['python']}"
    )
    print(
        f"# firstmark {versions['firstmark']}, uvicorn {versions['uvicorn']} "
        f"(uvloop {versions['uvloop']}, httptools {versions['httptools']}), "
        f"starlette {versions['starlette']}, {meta['wrk']}"
    )
    who = (
        "every request from its own X-Forwarded-For address (trusted proxy: the loopback), "
        f"{len(BROWSER_UAS)} browser User-Agents"
        if meta["traffic"] == "real"
        else "one client address, one browser User-Agent"
    )
    print(
        f"# wrk -t{meta['threads']} -c{meta['connections']} -d{meta['duration']}s --latency, "
        f"{meta['links']} {'A/B ' if meta.get('split') else ''}codes round-robin (Lua request()), "
        f"{meta['traffic']} traffic: {who}, "
        f"{meta['warmup']} s warm-up per server start"
    )
    print(f"# load average before the run: {meta['uptime']}")
    print(f"# {meta['pinning']}; one server at a time")
    hits = " ".join(f"{k.removeprefix('FIRSTMARK_')}={v}" for k, v in meta["hit_settings"].items())
    print(f"# firstmark database {meta['db']}; {hits}")
    print()
    for rnd, order in enumerate(meta["rounds"], start=1):
        line = ", ".join(
            f"{name} {next(r for r in summaries[name].runs if r.round == rnd).full.rps:,.0f}"
            for name in order
        )
        print(f"round {rnd} (req/s, in this order): {line}")
    print()
    header = (
        f"{'server':<22} {'req/s':>8} {'min-max':>15} {'p50ms':>6} {'p99ms':>6} "
        f"{'requests':>9} {'bad':>5} {'CPU':>5} {'us/req':>6} {'wrk':>5} {'RSS MB':>6}"
    )
    print(header)
    print("-" * len(header))
    for summary in summaries.values():
        spread = ""
        if len(summary.runs) > 1:
            low = min(r.full.rps for r in summary.runs)
            high = max(r.full.rps for r in summary.runs)
            spread = f"{low:,.0f}-{high:,.0f}"
        print(_row(summary.name, summary.median.full, summary.peak_rss_kb, spread))
    for summary in summaries.values():
        half = summary.half
        if half is not None and half.half is not None:
            print(_row(f"{summary.name} @ half load", half.half, None))
    print(
        "req/s: median over rounds (the other columns are from that round); bad: non-2xx/3xx "
        "responses + socket errors;\nCPU: server process CPU time (all threads) / wall time; "
        "us/req: server CPU microseconds per request;\nwrk: wrk's CPU time / wall time; "
        "RSS MB: peak resident set (VmHWM, MiB) over all rounds."
    )
    for summary in summaries.values():
        half = summary.half
        h = half.half if half is not None else None
        if h is None or h.target_rps is None or h.mean_delay_ms is None:
            continue
        near = abs(h.rps / h.target_rps - 1) <= 0.1
        print(
            f"{summary.name} half load: target {h.target_rps:,.0f} req/s "
            f"({meta['half']:.0%} of {h.target_rps / meta['half']:,.0f}), achieved {h.rps:,.0f} "
            f"= {h.rps / h.target_rps:.1%} ({'near' if near else 'NOT near'} the target); "
            f"mean delay() {h.mean_delay_ms:.2f} ms per connection, {meta['pacing']} pacing, "
            f"after {len(half.half_runs) - 1 if half else 0} short calibration run(s)"
        )
    fm = summaries["firstmark"]
    peak = max(fm.runs, key=lambda r: r.peak_rss_kb)
    print(f"firstmark peak RSS: VmHWM of pid {peak.rss_pid} ({peak.rss_command})")
    print()
    rows = sum(r.hit_rows or 0 for r in fm.runs)
    bots = sum(r.bot_rows or 0 for r in fm.runs)
    requests = sum(r.requests_total or 0 for r in fm.runs)
    codes = ", ".join(str(r.exit_code) for r in fm.runs)
    print(
        f"hits: {rows:,} rows written ({bots:,} flagged as bots) vs {requests:,} requests wrk "
        f"completed against firstmark\n(warm-ups, full load, half load and its calibration, "
        f"{len(fm.runs)} server start(s)): difference {rows - requests:+,}.\n"
        f"A hit is buffered before its response goes out, so requests in flight when wrk stops "
        f"are rows but not counted requests.\nEach server was stopped with SIGINT and the rows "
        f"counted after it exited (exit codes: {codes})."
    )
    print()
    print(f"{'target':<48} {'measured':>10} {'target':>10}  result")
    for g in goals:
        print(f"{g['what']:<48} {g['shown']:>10} {g['target']:>10}  {verdict(g['pass'])}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--duration", type=int, default=10, help="seconds per measured wrk run (10)")
    add("--connections", type=int, default=64, help="wrk -c (64)")
    add("--threads", type=int, default=1, help="wrk -t (1)")
    add("--links", type=int, default=100, help="links created and rotated (100)")
    add("--db", help="firstmark database URL (default: sqlite:/// in a temporary folder)")
    add("--rounds", type=int, default=3, help="full-load runs per server, order alternating (3)")
    add("--warmup", type=int, default=2, help="warm-up seconds per server start (2)")
    add("--half", type=float, default=0.5, help="fraction of the max rate for the latency run")
    add("--calibrate", type=int, default=3, help="seconds per half-load calibration run (3)")
    add("--calibrate-runs", type=int, default=3, help="at most this many calibration runs (3)")
    add("--half-all", action="store_true", help="also run the baselines at half their max rate")
    add(
        "--pacing", choices=["poisson", "fixed"], default="poisson",
        help="delay() between requests on a connection: exponential or constant (poisson)",
    )  # fmt: skip
    add(
        "--order", default="starlette,firstmark,raw",
        help="servers to run, comma-separated; reversed every other round",
    )  # fmt: skip
    add(
        "--nodes", type=int, default=1,
        help="with 2 or more: that many firstmark nodes on one --db postgresql:// database, "
        "loaded at once (bench/nodes.py); per-node and total req/s",
    )  # fmt: skip
    add(
        "--traffic", choices=TRAFFIC, default="real",
        help="real: every click from its own address (X-Forwarded-For through a trusted proxy) "
        "with one of several browser User-Agents; one-client: one address, one User-Agent (real)",
    )  # fmt: skip
    add("--split", action="store_true", help="make the links A/B links (two variants, 1:1)")
    add("--no-pin", action="store_true", help="do not pin with taskset")
    add("--keep", action="store_true", help="keep the temporary folder (logs, Lua, database)")
    add(
        "--json", nargs="?", const="-", metavar="FILE",
        help="also write the results as JSON to FILE (or stdout without FILE)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    order = [name.strip() for name in args.order.split(",") if name.strip()]
    if "firstmark" not in order or not set(order) <= {"firstmark", "starlette", "raw"}:
        parser.error("--order must name firstmark and may name starlette and raw")
    if len(set(order)) != len(order):
        parser.error("--order names a server twice")
    args.order = order
    if min(args.duration, args.connections, args.links, args.rounds, args.threads) < 1:
        parser.error("--duration, --connections, --links, --rounds, --threads must be >= 1")
    if not 0 < args.half <= 1:
        parser.error("--half must be above 0 and at most 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("install wrk: apt-get install wrk", file=sys.stderr)
        return 2
    exe = (
        os.path.relpath(sys.executable) if sys.executable.startswith(str(ROOT)) else sys.executable
    )
    command = shlex.join([exe, *(sys.argv if argv is None else ["bench/redirect.py", *argv])])
    server_pin, client_pin, pin_text = pinning(not args.no_pin)
    workdir = Path(tempfile.mkdtemp(prefix="fm-bench-"))
    db_url = args.db or f"sqlite:///{workdir / 'fm.db'}"
    if args.nodes > 1:
        from nodes import bench_nodes

        return bench_nodes(args, command, workdir, db_url)
    rounds = [args.order if i % 2 == 0 else args.order[::-1] for i in range(args.rounds)]
    meta: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": {
            name: version(name)
            for name in ("firstmark", "uvicorn", "uvloop", "httptools", "starlette")
        },
        "wrk": wrk_version(),
        "threads": args.threads,
        "connections": args.connections,
        "duration": args.duration,
        "warmup": args.warmup,
        "links": args.links,
        "split": args.split,
        "half": args.half,
        "pacing": args.pacing,
        "rounds": rounds,
        "pinning": pin_text,
        "db": db_url,
        "hit_settings": {k: os.environ.get(k, HIT_DEFAULTS[k]) for k in HIT_SETTINGS},
        "user_agent": BROWSER_UA,
        "traffic": args.traffic,
        "uptime": load_average(),
    }
    summaries = {name: Summary(name, []) for name in args.order}
    with (workdir / "wrk.log").open("w") as log:
        wrk = Wrk(
            client_pin, args.threads, args.connections, BROWSER_UA, workdir, log, args.traffic
        )
        try:
            for rnd, order in enumerate(rounds, start=1):
                for name in order:
                    if name == "firstmark":
                        so_far = [r.full.rps for r in summaries[name].runs]
                        half_of = so_far if rnd == args.rounds else None
                        result = bench_firstmark(
                            args, wrk, workdir, server_pin, db_url, rnd, half_of
                        )
                    else:
                        result = bench_baseline(name, args, wrk, workdir, server_pin, rnd)
                    summaries[name].runs.append(result)
        except BenchError as exc:
            print(f"bench/redirect.py: {exc}", file=sys.stderr)
            print(f"(logs kept in {workdir})", file=sys.stderr)
            return 1
    goals = targets(summaries)
    report(command, meta, summaries, goals)
    if args.json is not None:
        data = {
            "command": command,
            "meta": meta,
            "summary": {
                name: {"median_rps": s.rps, "peak_rss_kb": s.peak_rss_kb}
                for name, s in summaries.items()
            },
            "runs": {name: [asdict(r) for r in s.runs] for name, s in summaries.items()},
            "wrk_runs": [asdict(r) for r in wrk.runs],
            "targets": goals,
        }
        text = json.dumps(data, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
            print(f"\n(results written to {args.json})")
    if args.keep:
        print(f"(logs, Lua scripts and database kept in {workdir})")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
