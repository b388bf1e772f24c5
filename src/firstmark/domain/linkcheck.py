"""Link health: what a check of a link's target found, and which addresses it may never request.

A printed code cannot be reprinted when its target breaks, so each active destination is
requested now and then and a failing one is flagged. The request itself lives in
services/linkcheck.py; this module only judges.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firstmark.domain.times import iso


@dataclass(frozen=True)
class Health:
    link_id: int
    destination: str
    checked_at: datetime
    ok: bool
    status: int | None = None  # final HTTP status, None when no answer came
    error: str | None = None  # why it is not ok, in a few words
    final_url: str | None = None  # where redirects ended


def is_ok(status: int) -> bool:
    """2xx answers are healthy; 401/403 too (the page exists, it wants a login)."""
    return 200 <= status < 300 or status in (401, 403)


def forbidden_address(address: str) -> str | None:
    """Why a check may not request this IP, or None. Private, loopback, link-local and other
    non-public ranges are off limits: a destination must not turn the server into a probe of
    its own network."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback address"
    if ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast:
        return "private or reserved address"
    if ip.is_unspecified or not ip.is_global:
        return "not a public address"
    return None


def to_json(health: Health | None) -> dict[str, Any] | None:
    if health is None:
        return None
    return {
        "ok": health.ok,
        "status": health.status,
        "error": health.error,
        "final_url": health.final_url,
        "destination": health.destination,
        "checked_at": iso(health.checked_at),
    }
