"""The per-network token bucket."""

from __future__ import annotations

import pytest

from firstmark.web.ratelimit import RateLimiter, network_of


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("203.0.113.7", "203.0.113"),
        ("2001:db8:1:2::5", "2001:db8:1::/48"),
        ("2001:db8:1:ffff:1::9", "2001:db8:1::/48"),
        ("not-an-ip", "not-an-ip"),
    ],
)
def test_network_of(ip: str, network: str) -> None:
    assert network_of(ip) == network


def test_bucket_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.allow("198.51.100.1") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("198.51.100.200") is False  # same /24
    assert limiter.allow("198.51.101.1") is True
    assert limiter.retry_after("198.51.100.1") == 1
    now[0] = 0.5  # one token back
    assert [limiter.allow("198.51.100.1") for _ in range(2)] == [True, False]
    assert limiter.refused == 3
