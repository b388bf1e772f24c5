"""A hit is one click or scan. `RawHit` is what the response path captures (in memory only);
`Hit` is what is stored: derived fields, never the address or the user agent itself.

Both are named tuples: the hot path builds one per click, and a `Hit` is already the row of
parameters the store binds, in column order.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

from firstmark.domain.devices import Device
from firstmark.domain.rules import parse_languages
from firstmark.domain.visitors import visitor_day_hash
from firstmark.geo import Geo

KINDS = ("click", "scan")


class RawHit(NamedTuple):
    link_id: int
    ts: float
    kind: str
    host: str
    ip: str
    user_agent: str
    referer: str
    accept_language: str
    variant: int | None = None  # the A/B variant the click was sent to


class Hit(NamedTuple):
    """Field order is the column order of the `hits` table."""

    link_id: int
    ts: float
    kind: str
    visitor_day_hash: str
    country: str | None
    region: str | None
    city: str | None
    device_type: str
    os: str
    browser: str
    referrer_host: str | None
    is_bot: bool
    bot_reason: str | None
    lang: str | None
    variant: int | None = None


@lru_cache(maxsize=4096)
def referrer_host(referer: str, own_host: str = "") -> str | None:
    """Only the host of the referring page is kept; the path may carry personal data."""
    if not referer:
        return None
    try:
        host = urlsplit(referer.strip()).hostname
    except ValueError:
        return None
    if not host or len(host) > 253:
        return None
    host = host.lower().removeprefix("www.")
    if own_host and host == own_host:
        return None
    return host


@lru_cache(maxsize=1024)
def primary_language(accept_language: str) -> str | None:
    langs = parse_languages(accept_language[:512])
    return langs[0].split("-")[0][:8] if langs else None


def to_hit(raw: RawHit, *, salt: bytes, device: Device, geo: Geo) -> Hit:
    return Hit(
        raw.link_id,
        raw.ts,
        raw.kind,
        visitor_day_hash(salt, raw.host, raw.ip, raw.user_agent),
        geo.country,
        geo.region,
        geo.city,
        device.device_type,
        device.os,
        device.browser,
        referrer_host(raw.referer[:2048], raw.host),
        device.is_bot,
        device.bot_reason,
        primary_language(raw.accept_language),
        raw.variant,
    )
