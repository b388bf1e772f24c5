"""The client's address: the TCP peer, or X-Forwarded-For when the peer is a trusted proxy.

Used only to derive a country and the daily visitor hash; it is never stored or logged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from firstmark.config import Network
from firstmark.geo import ipv4_int


class ClientIP:
    def __init__(self, trusted: Sequence[Network]) -> None:
        self.trusted = tuple(trusted)
        self._cached = lru_cache(maxsize=1024)(self._is_trusted)
        # A client's dotted quad against IPv4 proxies, as integers: every event may come from
        # another address, and parsing each one cost more than the rest of this check.
        self._ipv4 = tuple(
            (int(n.network_address), int(n.broadcast_address))
            for n in self.trusted
            if isinstance(n, ipaddress.IPv4Network)
        )

    def is_trusted(self, address: str) -> bool:
        quad = ipv4_int(address)
        if quad is not None:
            return any(lo <= quad <= hi for lo, hi in self._ipv4)
        return self._cached(address)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def resolve(self, peer: str, forwarded_for: str | None) -> str:
        """Walk X-Forwarded-For from the right, skipping trusted proxies; the first other hop
        is the client. A header from an untrusted peer is ignored (anyone can send one)."""
        if not self.trusted or not forwarded_for or not self.is_trusted(peer):
            return peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.is_trusted(hop):
                return hop
        return hops[0] if hops else peer
