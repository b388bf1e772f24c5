"""Guess throttles: failed password attempts slow down exponentially, per network and per target.

Used by the dashboard login (per client network and per account) and by password-protected
links (per client network and per link). A key gets a few free failures; after that each new
failure doubles the wait before the next attempt is heard, up to a cap. A key with no failure
for `forget_s` starts over; a success clears the target's key (not the network's, so a guesser
cannot reset their network's count by logging into an account of their own).

A network, not an address: /24 for IPv4 and /56 for IPv6 (an IPv6 subscriber usually holds a
/56 or a /64, and rotates freely inside it). Keys are kept only as a keyed hash under a key
made at start and never written down. Memory is bounded: past `capacity` keys the least
recently failed are forgotten. State lives in this process; several nodes each throttle alone.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

IPV4_PREFIX = 24
IPV6_PREFIX = 56


def network_of(address: str) -> str:
    """The network an address is throttled by: '203.0.113.7' → '203.0.113.0/24',
    '2001:db8:1:2::5' → '2001:db8:1::/56'. Text that is no address is its own key."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


@dataclass(frozen=True, slots=True)
class Policy:
    free: int  # failures before any wait
    base_s: float  # the first wait; each further failure doubles it
    max_s: float  # the longest wait
    forget_s: float  # a key with no failure for this long starts over


class Backoff:
    """Failures per key, and how long the key must wait before its next attempt."""

    def __init__(
        self,
        policy: Policy,
        *,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.capacity = capacity
        self.clock = clock
        self._key = os.urandom(32)
        self._failures: OrderedDict[bytes, tuple[int, float]] = OrderedDict()

    def _id(self, key: str) -> bytes:
        return hmac.new(self._key, key.encode(), hashlib.sha256).digest()[:16]

    def _delay(self, failures: int) -> float:
        over = failures - self.policy.free
        if over < 0:
            return 0.0
        return min(self.policy.max_s, self.policy.base_s * 2.0 ** min(over, 64))

    def wait(self, key: str) -> float:
        """Seconds until this key may try again; 0 when it may now."""
        found = self._failures.get(self._id(key))
        if found is None:
            return 0.0
        failures, last = found
        now = self.clock()
        if now - last >= self.policy.forget_s:
            del self._failures[self._id(key)]
            return 0.0
        return max(0.0, last + self._delay(failures) - now)

    def failed(self, key: str) -> None:
        ident = self._id(key)
        now = self.clock()
        failures, last = self._failures.pop(ident, (0, now))
        if now - last >= self.policy.forget_s:
            failures = 0
        self._failures[ident] = (failures + 1, now)
        while len(self._failures) > self.capacity:
            self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        self._failures.pop(self._id(key), None)

    def __len__(self) -> int:
        return len(self._failures)


# Dashboard logins: a network gets 10 free failures, an account 5; then 1 s, 2 s, 4 s, … up to
# 15 minutes between attempts. An hour without a failure starts over.
LOGIN_NETWORK = Policy(free=10, base_s=1.0, max_s=900.0, forget_s=3600.0)
LOGIN_ACCOUNT = Policy(free=5, base_s=1.0, max_s=900.0, forget_s=3600.0)
# Password-protected links: a network gets 5 free failures, a link 20 (many people may share
# its password); then the same doubling up to 15 minutes.
LINK_NETWORK = Policy(free=5, base_s=1.0, max_s=900.0, forget_s=3600.0)
LINK_TARGET = Policy(free=20, base_s=1.0, max_s=900.0, forget_s=3600.0)


class GuessThrottle:
    """Two backoffs at once: the client's network and the thing guessed at (an account, a
    link). An attempt waits for the longer of the two."""

    def __init__(
        self,
        network: Policy,
        target: Policy,
        *,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.network = Backoff(network, capacity=capacity, clock=clock)
        self.target = Backoff(target, capacity=capacity, clock=clock)

    def retry_after(self, address: str, target: str) -> int:
        """Whole seconds until this client may try this target again; 0 when it may now."""
        wait = max(self.network.wait(network_of(address)), self.target.wait(target))
        return 0 if wait <= 0 else max(1, int(wait + 0.999))

    def failed(self, address: str, target: str) -> None:
        self.network.failed(network_of(address))
        self.target.failed(target)

    def succeeded(self, address: str, target: str) -> None:
        self.target.succeeded(target)


def login_throttle(clock: Callable[[], float] = time.monotonic) -> GuessThrottle:
    return GuessThrottle(LOGIN_NETWORK, LOGIN_ACCOUNT, clock=clock)


def link_throttle(clock: Callable[[], float] = time.monotonic) -> GuessThrottle:
    return GuessThrottle(LINK_NETWORK, LINK_TARGET, clock=clock)
