"""The client address behind trusted proxies: X-Forwarded-For is read only from a trusted peer,
from the right, skipping the proxies."""

from __future__ import annotations

import ipaddress

from firstmark.web.clientip import ClientIP


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
