"""The client's address: the TCP peer, or X-Forwarded-For when the peer is a trusted proxy.

Used only to derive a country and the daily visitor hash; it is never stored or logged.

Behind a load balancer every click comes from the same few proxies but from a new client, so
trust is remembered per proxy address (few, and they repeat), never per client: the common
header, one address, is answered without parsing it (whatever it holds is the client the
proxy saw), and a longer chain parses only the first hop that is not a known proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from firstmark.config import Network

# Proxy hops remembered as trusted. Only addresses inside the trusted networks get in, and a
# client can write such addresses into its header, so the set is bounded all the same.
KNOWN_PROXIES = 1024


class ClientIP:
    def __init__(self, trusted: Sequence[Network]) -> None:
        self.trusted = tuple(trusted)
        # TCP peers: our proxies, or direct clients when there is no proxy in front.
        self.is_trusted = lru_cache(maxsize=1024)(self._is_trusted)
        self._proxies: set[str] = set()

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
        if "," not in forwarded_for:
            # One hop: the client, whether or not it is itself one of our proxies.
            return forwarded_for.strip() or peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        if not hops:
            return peer
        proxies = self._proxies
        for hop in reversed(hops[1:]):
            if hop in proxies:
                continue
            if not self._is_trusted(hop):
                return hop
            if len(proxies) >= KNOWN_PROXIES:
                proxies.clear()
            proxies.add(hop)
        return hops[0]
