"""Purge millions of old hits while the redirect path serves clicks: the redirect p99 before
and during the purge, and how fast the purge goes.

Usage (from the repository root; needs wrk: `apt-get install wrk`):

    .venv/bin/python bench/purge.py [--rows 10000000] [--db sqlite:////tmp/fm-purge.db |
                                     postgresql://...] [--rate 500] [--mode serve|cli]

1. migrates an empty database and writes `--rows` hits older than the retention (395 days),
   spread over 12 months, plus a few recent ones (server-side SQL: a recursive CTE on SQLite,
   generate_series on PostgreSQL, where the months get their partitions first);
2. starts `firstmark serve` (pinned to CPU 0 when there are two CPUs), creates one link, warms
   it up and measures the redirect with wrk on CPU 1 at a paced `--rate` (Poisson arrivals)
   for `--window` seconds: the baseline;
3. starts the purge: `--mode serve` lets the server's own daily job run it (it starts after
   FIRSTMARK_PURGE_START_DELAY_S), `--mode cli` runs `firstmark purge` as a second process
   (cron style); wrk keeps measuring in windows of `--window` seconds until the purge is done;
4. prints the baseline p50/p99, every window's p99 during the purge, the purge's time and
   rows per second, and the rows left.

The figures in docs/performance.md come from this script.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redirect import (
    BROWSER_UA,
    HOST,
    BenchError,
    Server,
    Wrk,
    WrkResult,
    create_links,
    firstmark_argv,
    firstmark_env,
    firstmark_key,
    free_port,
    is_postgres,
    pinning,
    sqlite_file,
)

DAY = 86_400.0
START_DELAY_S = 40  # --mode serve: long enough for the warm-up and the baseline


def seed_sqlite(path: Path, rows: int, now: float) -> None:
    first = now - 760 * DAY
    step = 360 * DAY / rows
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute(
            "INSERT INTO hits (link_id, ts, kind, visitor_day_hash, dims_id) "
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) "
            "SELECT 1, ? + i * ?, 'click', printf('%024x', i), 1 FROM n",
            (rows, first, step),
        )
        db.execute(
            "INSERT INTO hits (link_id, ts, kind, visitor_day_hash, dims_id) "
            "VALUES (1, ?, 'click', 'recent', 1)",
            (now - DAY,),
        )
        db.commit()


def seed_postgres(url: str, rows: int, now: float) -> None:
    import asyncpg

    async def go() -> None:
        conn = await asyncpg.connect(url)
        try:
            first = now - 760 * DAY
            await conn.execute("SELECT firstmark_month_partitions('hits', $1, $2)", first, now)
            await conn.execute(
                "INSERT INTO hits (link_id, ts, kind, visitor_day_hash, dims_id) "
                "SELECT 1, $2 + i * $3, 'click', lpad(to_hex(i), 24, '0'), 1 "
                "FROM generate_series(0, $1 - 1) i",
                rows,
                first,
                360 * DAY / rows,
                timeout=3600,
            )
            await conn.execute(
                "INSERT INTO hits (link_id, ts, kind, visitor_day_hash, dims_id) "
                "VALUES (1, $1, 'click', 'recent', 1)",
                now - DAY,
            )
            # Vacuum now, so autovacuum of the fresh rows does not run during the measurement.
            await conn.execute("VACUUM (ANALYZE) hits", timeout=3600)
        finally:
            await conn.close()

    asyncio.run(go())


def count_rows(url: str, sql: str) -> int:
    if is_postgres(url):
        import asyncpg

        async def go() -> int:
            conn = await asyncpg.connect(url)
            try:
                return int(await conn.fetchval(sql))
            finally:
                await conn.close()

        return asyncio.run(go())
    with contextlib.closing(sqlite3.connect(f"file:{sqlite_file(url)}?mode=ro", uri=True)) as db:
        try:
            return int(db.execute(sql).fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000_000, help="old hits to purge")
    p.add_argument("--db", default="", help="database URL (default: a temporary SQLite file)")
    p.add_argument("--rate", type=float, default=500.0, help="paced redirect load, req/s")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--window", type=int, default=5, help="seconds per wrk measurement")
    p.add_argument("--mode", choices=("serve", "cli"), default="serve")
    p.add_argument("--batch", type=int, default=5000, help="FIRSTMARK_PURGE_BATCH")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="fm-purge-"))
    db_url = args.db or f"sqlite:///{workdir / 'firstmark.db'}"
    port = free_port()
    env = firstmark_env(port, db_url)
    env["FIRSTMARK_PURGE_BATCH"] = str(args.batch)
    env["FIRSTMARK_PURGE_ENABLED"] = "true" if args.mode == "serve" else "false"
    env["FIRSTMARK_PURGE_START_DELAY_S"] = str(START_DELAY_S)
    cli = firstmark_argv()
    subprocess.run([*cli, "migrate"], cwd=workdir, env=env, check=True, capture_output=True)
    now = time.time()
    started = time.monotonic()
    if is_postgres(db_url):
        seed_postgres(db_url, args.rows, now)
    else:
        seed_sqlite(sqlite_file(db_url), args.rows, now)
    seeded = count_rows(db_url, "SELECT count(*) FROM hits")
    print(f"seeded {seeded:,} hits in {time.monotonic() - started:.0f} s", file=sys.stderr)

    server_pin, client_pin, pin_note = pinning(True)
    key = firstmark_key(env, workdir)
    argv_serve = [*cli, "serve", "--host", HOST, "--port", str(port)]
    server = Server("firstmark", argv_serve, env, workdir, server_pin)
    log = (workdir / "wrk.log").open("w")
    wrk = Wrk(client_pin, 1, args.connections, BROWSER_UA, workdir, log)
    delay = args.connections / args.rate * 1000
    paths = ["/p000"]
    windows: list[WrkResult] = []
    purge_s = 0.0
    try:
        server.start(port, "/readyz", 200, timeout=60)
        serve_started = time.monotonic()
        create_links(port, key, ["p000"])
        wrk.run("warm-up", port, paths, 3, server_pid=server.pid, mean_delay_ms=delay)
        base = wrk.run("before", port, paths, 10, server_pid=server.pid, mean_delay_ms=delay)
        purger = None
        if args.mode == "cli":
            purger = subprocess.Popen(
                [*cli, "purge"],
                cwd=workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            purge_began = time.monotonic()
        else:
            while time.monotonic() - serve_started < START_DELAY_S:
                time.sleep(0.2)
            purge_began = time.monotonic()

        def done() -> bool:
            if purger is not None:
                return purger.poll() is not None
            return count_rows(db_url, "SELECT count(*) FROM retention_purges") > 0 and (
                count_rows(db_url, "SELECT count(*) FROM retention_purges WHERE class = 'audit'")
                > 0
            )

        while not done():
            windows.append(
                wrk.run(
                    f"during {len(windows) + 1}",
                    port,
                    paths,
                    args.window,
                    server_pid=server.pid,
                    mean_delay_ms=delay,
                )
            )
            if not done():
                purge_s = time.monotonic() - purge_began
        purge_s = time.monotonic() - purge_began
        after = wrk.run("after", port, paths, 10, server_pid=server.pid, mean_delay_ms=delay)
        server.stop()
    finally:
        server.kill()
        log.close()
    # Clicks made during the run are recent and stay: count only what the purge should take.
    left = count_rows(db_url, f"SELECT count(*) FROM hits WHERE ts < {now - 395 * DAY}")
    engine = "PostgreSQL" if is_postgres(db_url) else "SQLite"
    print(f"\nbench/purge.py --rows {args.rows} --rate {args.rate:g} --mode {args.mode} "
          f"--batch {args.batch} on {engine} ({pin_note})")  # fmt: skip
    print(f"{'phase':12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in [base, *windows, after]:
        print(f"{r.label:12} {r.rps:8.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.errors:7d}")
    worst = max((w.p99_ms for w in windows), default=0.0)
    gone = args.rows - left
    print(f"\npurged {gone:,} hits in about {purge_s:.0f} s "
          f"({gone / max(purge_s, 1e-9):,.0f} rows/s); {left:,} old hits left")  # fmt: skip
    print(f"redirect p99: {base.p99_ms:.2f} ms before, worst window {worst:.2f} ms during, "
          f"{after.p99_ms:.2f} ms after")  # fmt: skip
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench/purge.py: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
