"""The per-network token bucket."""

from __future__ import annotations

import time

import pytest

from firstmark.web.ratelimit import MAX_BUCKETS, RateLimiter, network_of


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


def test_each_call_stays_cheap_past_the_network_cap() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=1.0, burst=5, clock=lambda: now[0])
    for i in range(MAX_BUCKETS + 5_000):
        limiter.allow(f"{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}.7")
    assert len(limiter._buckets) == MAX_BUCKETS
    started = time.perf_counter()
    for i in range(2_000):
        limiter.allow(f"11.{i >> 8 & 255}.{i & 255}.1")
    elapsed = time.perf_counter() - started
    # It used to rebuild its dict on every call past the cap (~5 ms a call: 10 s here).
    assert elapsed < 0.5, f"2,000 calls took {elapsed:.2f} s"
    assert len(limiter._buckets) == MAX_BUCKETS


def test_the_least_recently_seen_network_is_forgotten_first() -> None:
    limiter = RateLimiter(rate=0.0001, burst=1, clock=lambda: 0.0)
    assert limiter.allow("192.0.2.1") and not limiter.allow("192.0.2.1")
    for i in range(MAX_BUCKETS - 1):
        limiter.allow(f"{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}.7")
    assert not limiter.allow("192.0.2.9")  # still remembered (and now the most recent)
    limiter.allow("198.51.100.1")  # one more network: the oldest (0.0.0.x) goes
    assert "0.0.0" not in limiter._buckets and "192.0.2" in limiter._buckets


def test_junk_addresses_share_one_bucket() -> None:
    assert network_of("x" * 10_000) == network_of("y" * 65) == "invalid"
