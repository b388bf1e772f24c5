"""What a hard kill loses: wrk at full load, `kill -9` of the server, restart, count the rows.

Usage (from the repository root; needs wrk):

    .venv/bin/python bench/killwindow.py [--seconds 5] [--runs 3] [--connections 64]
                                         [--postgres postgresql://…] [--json [FILE]]

For each engine (SQLite in a temporary folder; PostgreSQL too with `--postgres` or
FIRSTMARK_BENCH_POSTGRES_URL, on a database of its own) it starts `firstmark serve`, creates
`--links` links and warms up, then `--runs` times:

1. drives the server with wrk at full load, real traffic as in bench/redirect.py: every
   request from an X-Forwarded-For address no other request carries (the loopback is a
   trusted proxy), browser User-Agents, links round-robin, and a Referer naming the run, so
   its rows can be told from every other run's;
2. after `--seconds`, sends SIGKILL to the server (no drain, no shutdown handler: a power
   cut) and lets wrk finish; every response wrk counted was a redirect the server answered;
3. restarts the server on the same database (SQLite recovers its WAL on open) and warms up.

At the end the server is stopped gracefully and, per run, the rows whose referrer is that run
(and their distinct visitor hashes: one per click, since every click had its own address) are
counted against the responses wrk received. Lost = answered - stored; the window is lost ÷
the answered rate, in milliseconds: how much traffic a kill costs. Target: ≤ 50 ms, the flush
interval. Rows beyond the answered count are clicks in flight at the kill whose response never
arrived; they are shown, not subtracted.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import shlex
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from redirect import (
    BROWSER_UA,
    HOST,
    BenchError,
    Server,
    Wrk,
    cpu_model,
    create_links,
    firstmark_argv,
    firstmark_env,
    firstmark_key,
    free_port,
    http_request,
    is_postgres,
    load_average,
    pinning,
    progress,
    sqlite_file,
)

TARGET_WINDOW_MS = 50.0
TAG_DOMAIN = "killwindow.test"


@dataclass
class KillRun:
    engine: str
    run: int
    referer_host: str
    seconds_to_kill: float
    answered: int = 0  # responses wrk received (all redirects)
    not_redirects: int = 0
    rate: float = 0.0  # answered per second until the kill
    queue_before_kill: int | None = None  # /readyz hit_queue a moment before the kill
    stored: int = 0  # rows with this run's referrer
    visitors: int = 0  # their distinct visitor hashes
    lost: int = 0
    unanswered_rows: int = 0
    window_ms: float = 0.0


def count_tagged(db_url: str, host: str) -> tuple[int, int]:
    """(rows, distinct visitor hashes) of the hits whose referrer host is `host`."""
    sql = (
        "SELECT count(*), count(DISTINCT visitor_day_hash) FROM hit_details "
        "WHERE referrer_host = {}"
    )
    if is_postgres(db_url):
        import asyncio

        import asyncpg

        async def query() -> tuple[int, int]:
            conn = await asyncpg.connect(db_url)
            try:
                row = await conn.fetchrow(sql.format("$1"), host)
                return int(row[0]), int(row[1])
            finally:
                await conn.close()

        return asyncio.run(query())
    db = sqlite_file(db_url)
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows, visitors = conn.execute(sql.format("?"), (host,)).fetchone()
    return int(rows), int(visitors)


def queue_depth(port: int) -> int | None:
    with contextlib.suppress(OSError, http.client.HTTPException, ValueError, KeyError):
        status, body = http_request(port, "GET", "/readyz", timeout=1.0)
        if status == 200:
            return int(json.loads(body)["hit_queue"])
    return None


class Engine:
    """One database and the firstmark server on it, started, killed and started again."""

    def __init__(self, name: str, db_url: str, workdir: Path, pin: list[str]) -> None:
        self.name = name
        self.db_url = db_url
        self.workdir = workdir
        self.pin = pin
        self.server: Server | None = None
        self.port = 0
        self.starts = 0

    def start(self) -> Server:
        self.port = free_port()
        env = firstmark_env(self.port, self.db_url)
        if self.starts == 0:
            self.key = firstmark_key(env, self.workdir)
        self.starts += 1
        argv = [*firstmark_argv(), "serve", "--host", HOST, "--port", str(self.port)]
        self.server = Server(f"{self.name}-{self.starts}", argv, env, self.workdir, self.pin)
        self.server.start(self.port, "/readyz", 200, timeout=60)
        return self.server

    def kill(self) -> None:
        if self.server is not None and self.server.proc is not None:
            self.server.proc.send_signal(signal.SIGKILL)
            self.server.proc.wait()


def bench_engine(
    name: str, db_url: str, args: argparse.Namespace, wrk: Wrk, workdir: Path, pin: list[str]
) -> list[KillRun]:
    engine = Engine(name, db_url, workdir, pin)
    codes = [f"k{i:03d}" for i in range(args.links)]
    paths = [f"/{c}" for c in codes]
    stamp = time.strftime("%H%M%S")
    runs: list[KillRun] = []
    try:
        server = engine.start()
        create_links(engine.port, engine.key, codes)
        wrk.run(f"{name} warm-up", engine.port, paths, args.warmup, server_pid=server.pid,
                referer=f"http://warm.{TAG_DOMAIN}/")  # fmt: skip
        for n in range(1, args.runs + 1):
            host = f"{name}-{stamp}-{n}.{TAG_DOMAIN}"
            run = KillRun(name, n, host, args.seconds)
            with ThreadPoolExecutor(1) as pool:
                started = time.monotonic()
                # wrk runs past the kill (its connections then fail): it counts only
                # responses it received, every one of them answered before the kill.
                loaded = pool.submit(
                    wrk.run, f"{name} run {n}", engine.port, paths,
                    int(args.seconds + 3), server_pid=server.pid,
                    referer=f"http://{host}/", timeout=2,
                )  # fmt: skip
                time.sleep(max(0.0, args.seconds - 0.05 - (time.monotonic() - started)))
                run.queue_before_kill = queue_depth(engine.port)
                time.sleep(max(0.0, args.seconds - (time.monotonic() - started)))
                engine.kill()
                killed = time.monotonic() - started
                result = loaded.result()
            run.seconds_to_kill = killed
            run.answered = result.requests
            run.not_redirects = result.non_2xx_3xx
            run.rate = result.requests / killed
            progress(
                f"{name} run {n}: killed after {killed:.2f} s, {run.answered:,} answered "
                f"({run.rate:,.0f}/s), queue {run.queue_before_kill} just before"
            )
            runs.append(run)
            server = engine.start()  # the restart: recovery on the same database
            wrk.run(f"{name} warm-up {n}", engine.port, paths, 1, server_pid=server.pid,
                    referer=f"http://warm.{TAG_DOMAIN}/")  # fmt: skip
        assert engine.server is not None
        engine.server.stop(signal.SIGINT)
    finally:
        if engine.server is not None:
            engine.server.kill()
    for run in runs:
        run.stored, run.visitors = count_tagged(db_url, run.referer_host)
        run.lost = max(0, run.answered - run.visitors)
        run.unanswered_rows = max(0, run.stored - run.answered)
        run.window_ms = run.lost / run.rate * 1000 if run.rate else 0.0
    return runs


def report(command: str, meta: dict[str, Any], runs: list[KillRun]) -> None:
    print(f"$ {command}")
    print(f"# {meta['date']}, {meta['cpu']} ({meta['cpus']} CPUs), Linux {meta['kernel']}")
    print(f"# load average before the run: {meta['uptime']}; {meta['pinning']}")
    print(
        f"# wrk -t1 -c{meta['connections']}, {meta['links']} links, real traffic (a new "
        "X-Forwarded-For address per request, browser User-Agents), SIGKILL after "
        f"{meta['seconds']} s, then restart; flush interval 50 ms (default settings)"
    )
    print()
    header = (
        f"{'engine':<10} {'run':>3} {'answered':>9} {'req/s':>8} {'queue':>6} {'stored':>9} "
        f"{'lost':>6} {'window ms':>9} {'in flight':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in runs:
        queue = "-" if r.queue_before_kill is None else f"{r.queue_before_kill:,}"
        print(
            f"{r.engine:<10} {r.run:>3} {r.answered:>9,} {r.rate:>8,.0f} {queue:>6} "
            f"{r.visitors:>9,} {r.lost:>6,} {r.window_ms:>9.1f} {r.unanswered_rows:>9,}"
        )
    print(
        "answered: redirects wrk received before the kill; queue: hits waiting to be written "
        "50 ms before the kill (/readyz);\nstored: rows of the run (distinct visitor hashes, "
        "one per click); lost: answered - stored; window: lost / req/s;\nin flight: rows "
        "beyond the answered count (clicks stored whose response never reached wrk)."
    )
    print()
    for engine in dict.fromkeys(r.engine for r in runs):
        mine = [r for r in runs if r.engine == engine]
        worst = max(r.window_ms for r in mine)
        ok = worst <= TARGET_WINDOW_MS
        print(
            f"{engine}: worst window {worst:.1f} ms (target <= {TARGET_WINDOW_MS:g} ms) "
            f"{'PASS' if ok else 'MISS'}; lost {sum(r.lost for r in mine):,} of "
            f"{sum(r.answered for r in mine):,} answered"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--seconds", type=float, default=5.0, help="seconds of full load before the kill (5)")
    add("--runs", type=int, default=3, help="kills per engine (3)")
    add("--connections", type=int, default=64, help="wrk -c (64)")
    add("--links", type=int, default=100, help="links rotated (100)")
    add("--warmup", type=int, default=2, help="warm-up seconds after the first start (2)")
    add(
        "--postgres", default=os.environ.get("FIRSTMARK_BENCH_POSTGRES_URL", ""),
        help="also measure on this PostgreSQL database (FIRSTMARK_BENCH_POSTGRES_URL)",
    )  # fmt: skip
    add("--no-sqlite", action="store_true", help="PostgreSQL only")
    add("--no-pin", action="store_true", help="do not pin server and wrk to CPUs 0 and 1")
    add("--keep", action="store_true", help="keep the temporary folder (logs, Lua, database)")
    add("--json", nargs="?", const="-", metavar="FILE", help="also write JSON to FILE or stdout")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("install wrk: apt-get install wrk", file=sys.stderr)
        return 2
    if args.seconds < 1 or args.runs < 1:
        parser.error("--seconds must be at least 1 and --runs at least 1")
    command = shlex.join(["bench/killwindow.py", *(sys.argv[1:] if argv is None else argv)])
    server_pin, client_pin, pin_text = pinning(not args.no_pin)
    workdir = Path(tempfile.mkdtemp(prefix="fm-killwindow-"))
    engines: list[tuple[str, str]] = []
    if not args.no_sqlite:
        engines.append(("sqlite", f"sqlite:///{workdir / 'fm.db'}"))
    if args.postgres:
        engines.append(("postgres", args.postgres))
    if not engines:
        parser.error("nothing to measure: --no-sqlite without --postgres")
    meta: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "uptime": load_average(),
        "pinning": pin_text,
        "connections": args.connections,
        "links": args.links,
        "seconds": args.seconds,
    }
    runs: list[KillRun] = []
    with (workdir / "wrk.log").open("w") as log:
        wrk = Wrk(client_pin, 1, args.connections, BROWSER_UA, workdir, log, "real")
        try:
            for name, url in engines:
                runs += bench_engine(name, url, args, wrk, workdir, server_pin)
        except BenchError as exc:
            print(f"bench/killwindow.py: {exc}\n(logs kept in {workdir})", file=sys.stderr)
            return 1
    report(command, meta, runs)
    if args.json is not None:
        text = json.dumps({"command": command, "meta": meta, "runs": [asdict(r) for r in runs]})
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    if args.keep:
        print(f"(logs, Lua scripts and databases kept in {workdir})")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
