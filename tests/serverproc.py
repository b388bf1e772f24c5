"""Run a real `python -m firstmark serve` in a subprocess, for end-to-end tests.

    server = ServerProcess(tmp_path)
    try:
        base_url, api_key = server.start()
        ...
        assert server.stop(signal.SIGTERM) == 0
    finally:
        server.kill()

`start()` runs `firstmark init` the first time (its stdout is the admin API key), then
`firstmark serve` on a free loopback port, and waits for `GET /readyz` to answer 200. The same
object can be started again on the same database (the key is kept). Server output goes to a
log file in the work folder; failures quote its tail. `kill()` is safe to call at any time and
is what a test's `finally` (or fixture teardown) must call so that no server outlives the test.

`FakeServer` and `JSONHandler` are the other end: a fake platform on loopback for the server
to send to.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, Self

import httpx

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A port that was free a moment ago (the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def sqlite_url(path: Path) -> str:
    """sqlite:////abs/path/fm.db for an absolute path."""
    return f"sqlite:///{path.resolve()}"


class FakeServer:
    """A threaded HTTP server on loopback, serving in a daemon thread while its `with` block
    runs; `url` is its base. Subclasses pass the handler that plays their platform."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer((HOST, 0), handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}"

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class JSONHandler(BaseHTTPRequestHandler):
    """A fake platform's request handler: answers JSON, logs nothing."""

    def log_message(self, *args: object) -> None:
        pass

    def answer(self, status: int, data: object, headers: Mapping[str, str] | None = None) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


class ServerError(RuntimeError):
    pass


@contextlib.asynccontextmanager
async def load_clients(
    base_url: str,
    connections: int,
    *,
    per_client: int = 15,
    headers: Mapping[str, str] | None = None,
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Enough httpx.AsyncClients for `connections` concurrent connections, `per_client` each.

    One AsyncClient with a big pool is the bottleneck of a load test, not the server: httpcore
    scans every queued request against every connection each time a request finishes, so 1,000
    requests over one 150-connection pool take ~10-20 s of client CPU (py-spy:
    `_assign_requests_to_connections`). Give each worker one client of these, and keep at most
    `per_client` requests in flight per client.
    """
    count = max(1, -(-connections // per_client))
    clients = [
        httpx.AsyncClient(
            base_url=base_url,
            follow_redirects=False,
            headers=dict(headers or {}),
            limits=httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client),
            timeout=httpx.Timeout(30.0),
        )
        for _ in range(count)
    ]
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()


class ServerProcess:
    def __init__(
        self,
        workdir: Path,
        *,
        database_url: str | None = None,
        env: Mapping[str, str] | None = None,
        api_key: str | None = None,
        name: str = "server",
    ) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db_path = workdir / "fm.db"
        self.database_url = database_url or sqlite_url(self.db_path)
        self.env = dict(env or {})
        self.api_key = api_key
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.base_url = ""
        self.returncode: int | None = None
        self._log: IO[bytes] | None = None
        self._starts = 0

    # --- environment ------------------------------------------------------------------------

    def environ(self, port: int, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        # Start from a clean slate: no FIRSTMARK_* from the developer's shell leaks in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTMARK_")}
        env.update(
            {
                "FIRSTMARK_DATABASE_URL": self.database_url,
                "FIRSTMARK_SECRET_KEY": "serverproc-test-secret",
                "FIRSTMARK_BASE_URL": f"http://{HOST}:{port}",
                "FIRSTMARK_LOG_LEVEL": "warning",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.env)
        env.update(extra or {})
        return env

    def cli(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 30.0
    ) -> subprocess.CompletedProcess[str]:
        """Run `python -m firstmark ARGS` to completion (cwd = work folder, so no stray .env)."""
        return subprocess.run(
            [sys.executable, "-m", "firstmark", *args],
            cwd=self.workdir,
            env=self.environ(self.port or 8000, env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def init(self, env: Mapping[str, str] | None = None, *, password: str | None = None) -> str:
        """`firstmark init` (with the dashboard admin's password when given); the API key."""
        done = self.cli("init", *(("--password", password) if password else ()), env=env)
        key = done.stdout.strip()
        if done.returncode != 0 or not key or "\n" in key:
            raise ServerError(
                f"firstmark init failed (exit {done.returncode}):\n"
                f"stdout: {done.stdout}\nstderr: {done.stderr}"
            )
        self.api_key = key
        return key

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(
        self, env: Mapping[str, str] | None = None, *, timeout: float = 20.0, attempts: int = 3
    ) -> tuple[str, str]:
        """Start serving; returns (base_url, api_key) once /readyz answers 200."""
        if self.running:
            raise ServerError("already running")
        if self.api_key is None:
            self.init(env)
        assert self.api_key is not None
        for attempt in range(attempts):
            self._spawn(env)
            try:
                self._wait_ready(timeout)
            except ServerError:
                port_taken = "address already in use" in self.log_tail().lower()
                self.kill()
                if port_taken and attempt + 1 < attempts:
                    continue  # lost the race for the port; pick another
                raise
            return self.base_url, self.api_key
        raise AssertionError("unreachable")

    def _spawn(self, env: Mapping[str, str] | None) -> None:
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.returncode = None
        self._starts += 1
        self._log = self.log_path.open("ab")
        self._log.write(f"--- start {self._starts} on port {self.port} ---\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "firstmark", "serve", "--host", HOST, "--port", str(self.port)],
            cwd=self.workdir,
            env=self.environ(self.port, env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=1.0) as http:
            while time.monotonic() < deadline:
                if not self.running:
                    raise ServerError(
                        f"{self.name} exited with {self.proc and self.proc.returncode} "
                        f"before it was ready:\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/readyz").status_code == 200:
                        return
                time.sleep(0.05)
        raise ServerError(f"{self.name} not ready within {timeout} s:\n{self.log_tail()}")

    def send_signal(self, sig: int) -> None:
        if self.running:
            assert self.proc is not None
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for the process to end; raises subprocess.TimeoutExpired if it does not."""
        assert self.proc is not None
        code = self.proc.wait(timeout)
        self.returncode = code
        self._close_log()
        return code

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send `sig` and wait for the exit code (a hang fails, and the process is killed)."""
        if self.proc is None:
            raise ServerError("not started")
        self.send_signal(sig)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ServerError(
                f"{self.name} did not exit within {timeout} s of signal {sig}:\n{self.log_tail()}"
            ) from None

    def kill(self) -> None:
        """SIGKILL if still running, and reap. Idempotent; use in finally/teardown."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        if self.proc is not None:
            self.returncode = self.proc.returncode
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Run `app`'s ASGI lifespan as `firstmark serve` does (its timers and background jobs
    start), in this event loop; wait for the startup to complete, shut it down after."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await inbox.put({"type": "lifespan.startup"})
    server = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    )
    try:
        for _ in range(100):
            if sent:
                break
            await asyncio.sleep(0.05)
        assert {"type": "lifespan.startup.complete"} in sent
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(server, 10)
