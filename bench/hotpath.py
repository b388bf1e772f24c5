"""The cost of one click inside the process, without a server or a load generator.

Usage (from the repository root):

    .venv/bin/python bench/hotpath.py [--clicks 200000] [--links 100] [--batch 1000] [--split]

It opens a fresh SQLite store in a temporary folder, creates `--links` links (A/B links with two
variants, 1:1, with `--split`), then measures:

- the response path, two ways: `RedirectApp.quick` as the HTTP protocol calls it for a warm
  click (web/fastpath.py), and `RedirectApp` called as an ASGI app with a prepared scope and a
  `send` that drops the messages (the path every other request takes); no writer runs, so the
  buffer only fills; µs per click, with and without click tokens;
- the writer: enriching and storing those clicks in batches of `--batch`, as the writer task
  does; µs per click, split into enrichment and the SQLite transaction.

Process CPU time is used (`time.process_time`), which stays steady on a busy machine where wall
time does not. The sum is what one click costs the server beyond uvicorn's own work; compare it
with the CPU µs per request that bench/redirect.py prints for the raw ASGI and Starlette apps.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from ipaddress import IPv4Address, ip_network
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from firstmark.app import create_app  # noqa: E402
from firstmark.config import Settings  # noqa: E402
from firstmark.domain.links import Link  # noqa: E402
from firstmark.domain.variants import Variant  # noqa: E402
from firstmark.store import create_store  # noqa: E402

UA = (
    b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    b"Chrome/131.0.0.0 Safari/537.36"
)


def scope(code: str, port: int, forwarded_for: str = "") -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", UA), (b"accept", b"*/*")]
    if forwarded_for:
        headers.append((b"x-forwarded-for", forwarded_for.encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"/{code}",
        "raw_path": f"/{code}".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", port),
        "server": ("127.0.0.1", 8000),
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    return None


async def response_path(app: Any, scopes: list[dict[str, Any]], clicks: int) -> float:
    """CPU µs per click through RedirectApp."""
    n = len(scopes)
    gc.collect()
    started = time.process_time()
    for i in range(clicks):
        await app(scopes[i % n], _receive, _send)
    return (time.process_time() - started) / clicks * 1e6


def quick_path(app: Any, scopes: list[dict[str, Any]], clicks: int) -> float:
    """CPU µs per click through RedirectApp.quick, with the arguments the protocol passes."""
    calls = [(s["path"].encode(), s["headers"], s["client"]) for s in scopes]
    date = b"date: Wed, 25 Nov 2026 12:00:00 GMT\r\n"
    quick = app.quick
    n = len(calls)
    gc.collect()
    started = time.process_time()
    for i in range(clicks):
        url, headers, client = calls[i % n]
        if quick(b"GET", url, headers, client, date, True) is None:
            raise SystemExit("a warm click did not take the fast path")
    return (time.process_time() - started) / clicks * 1e6


async def writer_path(app: Any, batch: int) -> tuple[float, float, int]:
    """CPU µs per click for enrichment and for the store write, over what is buffered."""
    writer = app.state.runtime.writer
    store = app.state.runtime.store
    raws = list(writer._buf)
    writer._buf.clear()
    enrich = write = 0.0
    for start in range(0, len(raws), batch):
        chunk = raws[start : start + batch]
        t0 = time.process_time()
        hits = await writer._enrich(chunk)
        t1 = time.process_time()
        await store.write_hits(hits, hold=True)  # as the writer does
        t2 = time.process_time()
        enrich += t1 - t0
        write += t2 - t1
    t0 = time.process_time()
    await writer.settle(force=True)  # the rollup increments still held
    write += time.process_time() - t0
    return enrich / len(raws) * 1e6, write / len(raws) * 1e6, len(raws)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=200_000)
    parser.add_argument("--links", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--visitors", type=int, default=64, help="distinct client ports")
    parser.add_argument(
        "--traffic",
        choices=("real", "one-client"),
        default="real",
        help="real: each click from its own address through a trusted proxy (X-Forwarded-For; "
        "50,000 addresses, then they repeat); one-client: one address",
    )
    parser.add_argument("--split", action="store_true", help="A/B links (two variants, 1:1)")
    args = parser.parse_args()
    split = (
        (Variant("https://example.com/p?x=1", 1), Variant("https://example.com/q?x=2", 1))
        if args.split
        else ()
    )

    with tempfile.TemporaryDirectory(prefix="fm-hot-") as folder:
        settings = Settings(
            database_url=f"sqlite:///{folder}/fm.db",
            secret_key="bench",
            secret_key_file=f"{folder}/secret",
            hit_buffer=10 * args.clicks,
            trusted_proxies=(ip_network("127.0.0.1/32"),),
        )
        store = create_store(settings.database_url)
        await store.open()
        await store.migrate()
        codes = [f"b{i:03d}" for i in range(args.links)]
        for code in codes:
            await store.insert_link(
                Link(
                    destination="https://example.com/p?x=1",
                    code=code,
                    domain="127.0.0.1",
                    utm_source="bench",
                    utm_medium="cpc",
                    utm_campaign="hot",
                    variants=split,
                )
            )
        app = create_app(settings, store)
        # wrk's 64 connections: 64 client ports, the same user agent; one address, or one per
        # click as a load balancer forwards them.
        count = 50_000 if args.traffic == "real" else 6400
        scopes = [
            scope(
                codes[i % len(codes)],
                40000 + i % args.visitors,
                str(IPv4Address((i * 40503 + 0x0B000000) % 2**32)) if count > 6400 else "",
            )
            for i in range(count)
        ]
        writer = app.state.runtime.writer
        writer.rate.cap = 10 * args.clicks  # nothing writes while the response path is timed
        await response_path(app, scopes, 5_000)  # warm the link cache
        writer._buf.clear()

        rows = []
        for tokens in (True, False):
            app.tokens = tokens
            asgi = await response_path(app, scopes, args.clicks)
            app.state.runtime.writer._buf.clear()
            fast = quick_path(app, scopes, args.clicks)
            enrich, write, n = await writer_path(app, args.batch)
            rows.append((tokens, fast, asgi, enrich, write, n))
        hits = await store.count_hits()
        await store.close()

    print(
        f"# bench/hotpath.py --clicks {args.clicks} --links {args.links} --batch {args.batch} "
        f"--traffic {args.traffic}{' --split' if args.split else ''}"
    )
    print(f"# Python {sys.version.split()[0]}; CPU µs per click (process time)")
    print(
        f"{'click tokens':<14}{'quick':>10}{'(asgi)':>10}{'enrich':>10}{'write':>10}{'total':>10}"
    )
    for tokens, fast, asgi, enrich, write, _n in rows:
        total = fast + enrich + write
        label = "on" if tokens else "off"
        print(f"{label:<14}{fast:>10.2f}{asgi:>10.2f}{enrich:>10.2f}{write:>10.2f}{total:>10.2f}")
    print("total = quick + enrich + write: what a warm click costs beyond parsing and the socket")
    print(f"hit rows stored: {hits:,} (expected {sum(r[5] for r in rows):,})")


if __name__ == "__main__":
    asyncio.run(main())
