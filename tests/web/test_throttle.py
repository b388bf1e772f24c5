"""Guess throttles without HTTP: networks, exponential backoff, forgetting, bounded memory."""

from __future__ import annotations

import pytest

from firstmark.web.throttle import Backoff, GuessThrottle, Policy, network_of


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.7", "203.0.113.0/24"),
        ("203.0.113.250", "203.0.113.0/24"),
        ("2001:db8:1:2::5", "2001:db8:1::/56"),
        ("2001:db8:1:ff:ffff::1", "2001:db8:1::/56"),
        ("2001:db8:1:100::1", "2001:db8:1:100::/56"),
        ("::ffff:198.51.100.4", "198.51.100.0/24"),
        ("fe80::1%eth0", "fe80::/56"),
        ("not-an-ip", "not-an-ip"),
    ],
)
def test_addresses_are_throttled_by_network(address: str, network: str) -> None:
    assert network_of(address) == network


def test_backoff_doubles_after_the_free_failures_and_caps() -> None:
    clock = Clock()
    backoff = Backoff(Policy(free=3, base_s=1.0, max_s=8.0, forget_s=3600.0), clock=clock)
    for _ in range(3):
        assert backoff.wait("k") == 0
        backoff.failed("k")
    waits = []
    for _ in range(6):
        waits.append(backoff.wait("k"))
        clock.now += waits[-1]
        backoff.failed("k")
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert backoff.wait("other") == 0
    backoff.succeeded("k")
    assert backoff.wait("k") == 0


def test_backoff_forgets_a_quiet_key() -> None:
    clock = Clock()
    backoff = Backoff(Policy(free=1, base_s=10.0, max_s=100.0, forget_s=60.0), clock=clock)
    backoff.failed("k")
    backoff.failed("k")
    assert backoff.wait("k") == 20.0
    clock.now += 61
    assert backoff.wait("k") == 0
    backoff.failed("k")
    assert backoff.wait("k") == 10.0  # counting starts over: one failure, not three


def test_backoff_holds_no_key_in_clear_and_stays_bounded() -> None:
    backoff = Backoff(Policy(free=1, base_s=1, max_s=1, forget_s=60), capacity=100)
    for i in range(250):
        backoff.failed(f"10.0.{i // 250}.{i % 250}")
    assert len(backoff) == 100
    assert all(isinstance(k, bytes) and b"10.0" not in k for k in backoff._failures)


def test_a_client_waits_for_the_longer_of_network_and_target() -> None:
    clock = Clock()
    policy = Policy(free=2, base_s=4.0, max_s=60.0, forget_s=3600.0)
    throttle = GuessThrottle(policy, Policy(free=5, base_s=4.0, max_s=60.0, forget_s=3600.0),
                             clock=clock)  # fmt: skip
    # Rotating addresses inside one IPv6 /56 is one network.
    for i in range(3):
        throttle.failed(f"2001:db8:0:{i}::{i}", "admin")
    assert throttle.retry_after("2001:db8:0:ff::1", "someone-else") == 8
    assert throttle.retry_after("2001:db8:1:0::1", "someone-else") == 0
    # Many networks against one account: the account waits.
    for i in range(3):
        throttle.failed(f"198.51.{i}.1", "admin")
    assert throttle.retry_after("192.0.2.1", "admin") == 8
    assert throttle.retry_after("192.0.2.1", "bob") == 0
    # A success clears the account, not the network.
    throttle.succeeded("198.51.0.1", "admin")
    assert throttle.retry_after("192.0.2.1", "admin") == 0
    assert throttle.retry_after("2001:db8:0:1::1", "admin") == 8
