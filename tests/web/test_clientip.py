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


def test_the_first_untrusted_hop_from_the_right_is_the_client() -> None:
    proxies = ClientIP([ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8")])
    assert proxies.resolve("10.1.2.3", "203.0.113.9") == "203.0.113.9"
    assert proxies.resolve("10.1.2.3", "198.51.100.1, 203.0.113.9, 10.9.9.9") == "203.0.113.9"
    assert proxies.resolve("fd00::1", "2001:db8::7, fd00::2") == "2001:db8::7"
    assert proxies.resolve("10.1.2.3", "10.0.0.1, 10.0.0.2") == "10.0.0.1"  # all proxies
    # An untrusted peer's header is ignored, whatever it says.
    assert proxies.resolve("203.0.113.50", "10.0.0.1") == "203.0.113.50"
    assert proxies.resolve("11.0.0.1", "1.2.3.4") == "11.0.0.1"
    # Not quite dotted quads are read as ipaddress reads them: not addresses, so not proxies.
    assert proxies.resolve("10.1.2.3", "010.0.0.1") == "010.0.0.1"
    assert proxies.is_trusted("10.255.255.255") and not proxies.is_trusted("11.0.0.0")
    assert not proxies.is_trusted("::ffff:10.0.0.1") and not proxies.is_trusted("garbage")
    assert ClientIP([]).resolve("10.1.2.3", "203.0.113.9") == "10.1.2.3"
