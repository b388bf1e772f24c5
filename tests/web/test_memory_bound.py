"""50,000 requests with unique Host headers leave the server's memory within a bound: every
cache keyed by the host is an LRU capped by entries and bytes."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from serverproc import HOST, ServerProcess

HOSTS = 50_000
BATCH = 250  # requests pipelined per write


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def flood(port: int, first: int, last: int) -> int:
    """GET unknown codes with unique 240-byte hosts over one keep-alive connection."""
    answers = 0
    with socket.create_connection((HOST, port), timeout=60) as sock:
        pending = b""
        for start in range(first, last, BATCH):
            sock.sendall(
                b"".join(
                    b"GET /c%d HTTP/1.1\r\nhost: %s-%d.example\r\n\r\n" % (i, b"h" * 220, i)
                    for i in range(start, min(start + BATCH, last))
                )
            )
            want = min(start + BATCH, last) - start
            seen = 0
            while seen < want:
                data = sock.recv(1 << 20)
                assert data, "the server closed the connection"
                pending += data
                seen_now = pending.count(b"HTTP/1.1 404 ")
                seen += seen_now
                # Keep only the tail, which may hold half a status line.
                pending = pending[-32:] if seen_now else pending
            answers += seen
    return answers


@pytest.mark.slow
def test_unique_hosts_do_not_grow_memory_without_bound(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    try:
        server.start()
        assert server.port is not None and server.proc is not None
        pid = server.proc.pid
        flood(server.port, 0, 2000)  # warm up: code paths, template, first cache entries
        before = rss_mb(pid)
        results: list[Any] = []
        threads = [
            threading.Thread(
                target=lambda a=a: results.append(flood(server.port or 0, a, a + HOSTS // 4))
            )
            for a in range(2000, 2000 + HOSTS, HOSTS // 4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after = rss_mb(pid)
        print(f"RSS before {before:.1f} MB, after {HOSTS:,} unique hosts {after:.1f} MB")
        assert sum(results) == HOSTS
        assert after - before < 30, f"RSS grew from {before:.1f} MB to {after:.1f} MB"
    finally:
        server.kill()
