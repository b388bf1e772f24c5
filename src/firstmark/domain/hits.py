"""A hit is one click or scan. `Visit` is what the response path captures (in memory only);
`Hit` is what is stored: derived fields, never the address or the user agent itself."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from firstmark.domain.devices import Device
from firstmark.domain.rules import parse_languages
from firstmark.domain.visitors import visitor_day_hash
from firstmark.geo import Geo

KINDS = ("click", "scan")


@dataclass(slots=True)
class RawHit:
    link_id: int
    ts: float
    kind: str
    host: str
    ip: str
    user_agent: str
    referer: str
    accept_language: str


@dataclass(frozen=True, slots=True)
class Hit:
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


def primary_language(accept_language: str) -> str | None:
    langs = parse_languages(accept_language)
    return langs[0].split("-")[0][:8] if langs else None


def to_hit(raw: RawHit, *, salt: bytes, device: Device, geo: Geo) -> Hit:
    return Hit(
        link_id=raw.link_id,
        ts=raw.ts,
        kind=raw.kind,
        visitor_day_hash=visitor_day_hash(salt, raw.host, raw.ip, raw.user_agent),
        country=geo.country,
        region=geo.region,
        city=geo.city,
        device_type=device.device_type,
        os=device.os,
        browser=device.browser,
        referrer_host=referrer_host(raw.referer, raw.host),
        is_bot=device.is_bot,
        bot_reason=device.bot_reason,
        lang=primary_language(raw.accept_language),
    )
