"""Several firstmark nodes on one PostgreSQL database, loaded at the same time (the two-node
mode of bench/redirect.py: `--nodes 2 --db postgresql://…`).

Each node is a `firstmark serve` process of its own; one wrk per node drives it for the same
`--duration`, all at once, and the report gives each node's req/s and the total. Afterwards
every node is stopped with SIGINT (so its hit writer drains) and the rows in `hits` are
compared with the requests all wrk runs completed. Nothing is pinned: on a small machine the
nodes, wrk and PostgreSQL share the CPUs, which is the point of the measurement.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from redirect import (
    BROWSER_UA,
    HOST,
    BenchError,
    Server,
    Wrk,
    WrkResult,
    count_hits,
    create_links,
    firstmark_argv,
    firstmark_env,
    firstmark_key,
    free_port,
    is_postgres,
    progress,
)


def bench_nodes(args: argparse.Namespace, command: str, workdir: Path, db_url: str) -> int:
    if not is_postgres(db_url):
        print("bench/redirect.py: --nodes needs --db postgresql://…", flush=True)
        return 2
    width = max(3, len(str(args.links - 1)))
    paths = [f"/b{i:0{width}d}" for i in range(args.links)]
    rows_before, _ = count_hits(db_url)
    servers: list[Server] = []
    ports: list[int] = []
    log = (workdir / "wrk.log").open("w")
    try:
        for n in range(args.nodes):
            port = free_port()
            env = firstmark_env(port, db_url)
            if n == 0:
                key = firstmark_key(env, workdir)
            argv = [*firstmark_argv(), "serve", "--host", HOST, "--port", str(port)]
            server = Server(f"node{n + 1}", argv, env, workdir, [])
            server.start(port, "/readyz", 200, timeout=30)
            servers.append(server)
            ports.append(port)
        create_links(ports[0], key, [p[1:] for p in paths])
        wrks = []
        for n in range(args.nodes):
            scripts = workdir / f"node{n + 1}"
            scripts.mkdir(exist_ok=True)
            wrks.append(Wrk([], args.threads, args.connections, BROWSER_UA, scripts, log))
        warm = 0
        for wrk, port, server in zip(wrks, ports, servers, strict=True):
            warm += wrk.run("warm-up", port, paths, args.warmup, server_pid=server.pid).requests
        progress(f"{args.nodes} nodes warmed up; loading all at once for {args.duration} s")
        with ThreadPoolExecutor(args.nodes) as pool:
            futures = [
                pool.submit(w.run, f"node{n + 1}", p, paths, args.duration, server_pid=s.pid)
                for n, (w, p, s) in enumerate(zip(wrks, ports, servers, strict=True))
            ]
            results: list[WrkResult] = [f.result() for f in futures]
        codes = [server.stop(signal.SIGINT) for server in servers]
    except BenchError as exc:
        print(f"bench/redirect.py: {exc}\n(logs kept in {workdir})")
        return 1
    finally:
        for server in servers:
            server.kill()
        log.close()
    rows = count_hits(db_url)[0] - rows_before
    requests = warm + sum(r.requests for r in results)
    print(f"$ {command}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M %Z')}; {args.nodes} nodes on {db_url}")
    print(
        f"# one wrk per node at once: -t{args.threads} -c{args.connections} -d{args.duration}s "
        f"--latency, {args.links} codes round-robin; nothing pinned"
    )
    print()
    header = (
        f"{'node':<8} {'req/s':>8} {'p50ms':>6} {'p99ms':>6} {'requests':>9} {'bad':>5} {'CPU':>5}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        cpu = f"{r.server_cpu:.0%}" if r.server_cpu is not None else "-"
        print(
            f"{r.label:<8} {r.rps:>8,.0f} {r.p50_ms:>6.2f} {r.p99_ms:>6.2f} {r.requests:>9,} "
            f"{r.non_2xx_3xx + r.errors:>5,} {cpu:>5}"
        )
    total = sum(r.rps for r in results)
    print(f"{'total':<8} {total:>8,.0f} {'':>6} {'':>6} {sum(r.requests for r in results):>9,}")
    print()
    print(
        f"hits: {rows:,} rows written vs {requests:,} requests completed (warm-ups included): "
        f"difference {rows - requests:+,}; node exit codes {', '.join(map(str, codes))}"
    )
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if rows >= requests else 1
