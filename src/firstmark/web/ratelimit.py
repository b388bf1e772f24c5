"""An in-memory token bucket per client network (/24 for IPv4, /48 for IPv6).

A network, not an address: one visitor rotating through IPv6 addresses of their /64 (or a
/48) still meets one limit. Buckets live in this process only; with several nodes each node
limits on its own.

At most MAX_BUCKETS networks are remembered, least recently seen forgotten first: every call
is O(1) however many networks there are (an OrderedDict moved and trimmed at its ends).
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache

MAX_BUCKETS = 100_000


def network_of(ip: str) -> str:
    """'203.0.113.7' → '203.0.113'; '2001:db8:1:2::5' → '2001:db8:1::/48'."""
    if len(ip) > 64:  # no address is that long: junk shares one bucket, and no cache slot
        return "invalid"
    return _network_of(ip)


@lru_cache(maxsize=65_536)
def _network_of(ip: str) -> str:
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
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self.refused = 0

    def allow(self, ip: str) -> bool:
        """Take one token from the client's network; False when none is left."""
        key = network_of(ip)
        now = self.clock()
        buckets = self._buckets
        tokens, last = buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1
        buckets[key] = (tokens - 1 if allowed else tokens, now)
        buckets.move_to_end(key)
        if len(buckets) > MAX_BUCKETS:
            buckets.popitem(last=False)  # the network seen least recently
        if not allowed:
            self.refused += 1
        return allowed

    def retry_after(self, ip: str) -> int:
        tokens, _ = self._buckets.get(network_of(ip), (self.burst, 0.0))
        return max(1, int((1 - tokens) / self.rate + 0.999)) if self.rate > 0 else 60
