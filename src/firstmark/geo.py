"""Country (and, with an operator's .mmdb, region and city) from an IP address.

By default the country comes from `iptocc` (offline registry data, IPv4 and IPv6). When the
operator configures a MaxMind GeoLite2 / DB-IP Lite .mmdb file (`maxminddb`, an optional
dependency imported only then), it takes precedence and adds region and city; iptocc still answers
the country when the .mmdb has none for an address.

Every click from a new address pays a lookup, so it costs no `ipaddress` objects: the text is
parsed with `inet_pton`, and whether the address is public is one binary search over the
boundaries of the special-purpose ranges (`_Ranges`), worked out from `ipaddress` once at import.

Privacy: callers derive the geo and drop the IP (docs/privacy.md). The per-instance LRU keeps
recent IP strings in process memory only, to spare repeated lookups; it is never written anywhere.
"""

from __future__ import annotations

import ipaddress
import socket
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Protocol

import iptocc

from firstmark.errors import ConfigError

__all__ = ["Geo", "GeoLookup", "MmdbReader"]

_CACHE_SIZE: Final = 8192  # lookups are cheap now; the cache spares repeat visitors only
_MAX_IP_CHARS: Final = 64  # longest IPv6 text plus a zone id; longer input is not an address
_MAX_NAME_CHARS: Final = 128


@dataclass(frozen=True, slots=True)
class Geo:
    country: str | None  # ISO 3166-1 alpha-2, upper case
    region: str | None
    city: str | None


_NOWHERE: Final = Geo(None, None, None)


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# IANA's special-purpose ranges, whose edges are where "public" can change. The networks
# `ipaddress` keeps for its own checks are added at import; extra edges cost nothing.
_SPECIAL: Final = (
    "0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 192.0.0.0/24 "
    "192.0.2.0/24 192.88.99.0/24 192.168.0.0/16 198.18.0.0/15 198.51.100.0/24 203.0.113.0/24 "
    "224.0.0.0/4 240.0.0.0/4 ::/128 ::1/128 ::ffff:0:0/96 64:ff9b::/96 64:ff9b:1::/48 100::/64 "
    "2001::/23 2001:db8::/32 2002::/16 fc00::/7 fe80::/10 fec0::/10 ff00::/8"
).split()


class _Ranges:
    """Which addresses of one IP version are public unicast, as sorted range starts and a flag
    per range: a lookup is one `bisect`. Each range is judged by `ipaddress` at its start, so
    the answers are its answers (`is_global and not is_multicast`)."""

    def __init__(self, version: int, make: Callable[[int], Address]) -> None:
        constants = getattr(ipaddress, f"_IPv{version}Constants", None)
        networks = [*_networks(vars(constants).values() if constants else ())]
        networks += [n for n in map(ipaddress.ip_network, _SPECIAL) if n.version == version]
        top = 2 ** (32 if version == 4 else 128)
        bounds = {0}
        for net in networks:
            bounds.add(int(net.network_address))
            bounds.add(int(net.broadcast_address) + 1)
        self.starts = sorted(b for b in bounds if b < top)
        self.public = [bool(a.is_global and not a.is_multicast) for a in map(make, self.starts)]

    def is_public(self, number: int) -> bool:
        return self.public[bisect_right(self.starts, number) - 1]


def _networks(values: Iterable[object]) -> Iterable[Network]:
    for value in values:
        if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
            yield value
        elif isinstance(value, list | tuple | frozenset | set):
            yield from _networks(value)


_V4: Final = _Ranges(4, ipaddress.IPv4Address)
_V6: Final = _Ranges(6, ipaddress.IPv6Address)
_MAPPED: Final = 0xFFFF  # ::ffff:a.b.c.d, the top 96 bits of an IPv4-mapped IPv6 address


def public_address(ip: str) -> str | None:
    """The canonical text of `ip` when it is a public unicast address (IPv4-mapped IPv6 as
    IPv4), else None: private, reserved, multicast and malformed input alike."""
    text = ip.strip().strip("[]")
    try:
        packed = socket.inet_pton(socket.AF_INET, text)
    except OSError:
        try:
            packed = socket.inet_pton(socket.AF_INET6, text)
        except OSError:
            return None
        number = int.from_bytes(packed)
        if number >> 32 != _MAPPED:
            if not _V6.is_public(number):
                return None
            text = socket.inet_ntop(socket.AF_INET6, packed)
            # inet_ntop writes ::a.b.c.d for the old IPv4-compatible form; ipaddress does not.
            return str(ipaddress.IPv6Address(packed)) if "." in text else text
        packed = packed[12:]
    if not _V4.is_public(int.from_bytes(packed)):
        return None
    return socket.inet_ntop(socket.AF_INET, packed)


class MmdbReader(Protocol):
    """What we use of `maxminddb.Reader` (tests inject a fake)."""

    def get(self, ip_address: str) -> Any: ...

    def close(self) -> None: ...


class GeoLookup:
    def __init__(self, mmdb_path: str = "", *, reader: MmdbReader | None = None) -> None:
        """'' → iptocc only; a path → that .mmdb via maxminddb. `reader` replaces the file (tests).

        Raises ConfigError when the file is missing or unreadable or maxminddb is not installed.
        """
        self._reader: MmdbReader | None = reader
        if reader is None and mmdb_path:
            self._reader = _open_mmdb(mmdb_path)
        self._cached: Callable[[str], Geo] = lru_cache(maxsize=_CACHE_SIZE)(self._lookup)

    def lookup(self, ip: str) -> Geo:
        """Never raises: an invalid, private, reserved or unknown address gives all None."""
        if not isinstance(ip, str) or len(ip) > _MAX_IP_CHARS:
            return _NOWHERE
        return self._cached(ip)

    def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        self._cached = lru_cache(maxsize=_CACHE_SIZE)(self._lookup)

    def _lookup(self, ip: str) -> Geo:
        try:
            text = public_address(ip)
            if text is None:
                return _NOWHERE
            geo = self._from_mmdb(text)
            if geo.country is None:
                country = _country_code(iptocc.country_code(text))
                if country is not None:
                    if geo is _NOWHERE:  # the usual case without a city database
                        return _country_only(country)
                    geo = Geo(country, geo.region, geo.city)
            return geo
        except Exception:  # untrusted input and third-party data: a lookup never fails a request
            return _NOWHERE

    def _from_mmdb(self, ip: str) -> Geo:
        if self._reader is None:
            return _NOWHERE
        try:
            record = self._reader.get(ip)
        except Exception:
            return _NOWHERE
        if not isinstance(record, Mapping):
            return _NOWHERE
        country = _country_code(_path(record, "country", "iso_code"))
        if country is None:  # GeoLite2 leaves `country` out for some anycast/satellite ranges
            country = _country_code(_path(record, "registered_country", "iso_code"))
        subdivisions = record.get("subdivisions")
        region = None
        if isinstance(subdivisions, list) and subdivisions:
            region = _name(subdivisions[0])
        return Geo(country, region, _name(record.get("city")))


def _open_mmdb(path: str) -> MmdbReader:
    try:
        import maxminddb
    except ImportError as exc:
        raise ConfigError(
            "a GeoIP database is configured but the maxminddb package is not installed "
            "(pip install 'firstmark[geoip]')",
            field="FIRSTMARK_GEOIP_DB",
        ) from exc
    try:
        reader: MmdbReader = maxminddb.open_database(path)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"the GeoIP database {path!r} does not exist", field="FIRSTMARK_GEOIP_DB"
        ) from exc
    except (OSError, ValueError, RuntimeError) as exc:  # InvalidDatabaseError is a RuntimeError
        raise ConfigError(
            f"the GeoIP database {path!r} cannot be read as a MaxMind DB (.mmdb) file: {exc}",
            field="FIRSTMARK_GEOIP_DB",
        ) from exc
    return reader


def _path(record: Mapping[str, Any], *keys: str) -> Any:
    value: Any = record
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


@lru_cache(maxsize=512)
def _country_only(country: str) -> Geo:
    """One Geo per country (a frozen dataclass costs about a microsecond to build)."""
    return Geo(country, None, None)


def _country_code(value: object) -> str | None:
    if isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha():
        return value.upper()
    return None


def _name(value: object) -> str | None:
    if not isinstance(value, Mapping):
        return None
    name = _path(value, "names", "en")
    if isinstance(name, str) and name.strip():
        return name.strip()[:_MAX_NAME_CHARS]
    return None
