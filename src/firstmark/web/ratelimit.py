"""An in-memory token bucket per client network (/24 for IPv4, /48 for IPv6).

A network, not an address: one visitor rotating through IPv6 addresses of their /64 (or a
/48) still meets one limit. Buckets live in this process only; with several nodes each node
limits on its own.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from functools import lru_cache

MAX_BUCKETS = 100_000


@lru_cache(maxsize=65_536)
def network_of(ip: str) -> str:
    """'203.0.113.7' → '203.0.113'; '2001:db8:1:2::5' → '2001:db8:1::/48'."""
    if "." in ip and ":" not in ip:
        return ip.rsplit(".", 1)[0]
    try:
        return str(ipaddress.ip_network(f"{ip}/48", strict=False))
    except ValueError:
        return ip


class RateLimiter:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(max(burst, 1))
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self.refused = 0

    def allow(self, ip: str) -> bool:
        """Take one token from the client's network; False when none is left."""
        key = network_of(ip)
        now = self.clock()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            self.refused += 1
            return False
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > MAX_BUCKETS:
            self._prune(now)
        return True

    def retry_after(self, ip: str) -> int:
        tokens, _ = self._buckets.get(network_of(ip), (self.burst, 0.0))
        return max(1, int((1 - tokens) / self.rate + 0.999)) if self.rate > 0 else 60

    def _prune(self, now: float) -> None:
        """Forget networks whose bucket has filled up again (they are as good as new)."""
        full_after = self.burst / self.rate if self.rate > 0 else 0
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after} or {}
