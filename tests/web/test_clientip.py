"""The client address behind trusted proxies, at the cost of one new client per click."""

from __future__ import annotations

import ipaddress

from firstmark.web.clientip import KNOWN_PROXIES, ClientIP

PROXIES = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"))


def test_the_client_behind_a_chain_of_trusted_proxies_is_found() -> None:
    ips = ClientIP(PROXIES)
    assert ips.resolve("127.0.0.1", "203.0.113.9") == "203.0.113.9"
    assert ips.resolve("127.0.0.1", " 203.0.113.9 , 10.1.2.3") == "203.0.113.9"
    assert ips.resolve("127.0.0.1", "198.51.100.1, 203.0.113.9, 10.1.2.3") == "203.0.113.9"
    assert ips.resolve("127.0.0.1", "10.9.9.9, 10.1.2.3") == "10.9.9.9"  # all ours: leftmost
    assert ips.resolve("127.0.0.1", " , ") == "127.0.0.1"
    assert ips.resolve("127.0.0.1", "") == "127.0.0.1"


def test_a_header_from_an_untrusted_peer_is_ignored() -> None:
    ips = ClientIP(PROXIES)
    assert ips.resolve("192.0.2.7", "203.0.113.9") == "192.0.2.7"
    assert ClientIP(()).resolve("127.0.0.1", "203.0.113.9") == "127.0.0.1"


def test_a_new_client_on_every_click_fills_no_cache() -> None:
    ips = ClientIP(PROXIES)
    for n in range(5_000):
        client = str(ipaddress.IPv4Address(0xCB007100 + n))
        assert ips.resolve("127.0.0.1", client) == client
        assert ips.resolve("127.0.0.1", f"{client}, 10.0.0.1") == client
    assert ips.is_trusted.cache_info().currsize == 1  # the peer, once
    assert ips._proxies == {"10.0.0.1"}


def test_made_up_proxy_hops_are_remembered_within_a_bound() -> None:
    ips = ClientIP(PROXIES)
    for n in range(3 * KNOWN_PROXIES):
        hops = f"203.0.113.9, {ipaddress.IPv4Address(0x0A000000 + n)}"
        assert ips.resolve("127.0.0.1", hops) == "203.0.113.9"
    assert len(ips._proxies) <= KNOWN_PROXIES
