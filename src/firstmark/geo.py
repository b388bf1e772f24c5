"""Country (and, with an operator's .mmdb, region and city) from an IP address.

By default the country comes from `iptocc` (offline registry data, IPv4 and IPv6). When the
operator configures a MaxMind GeoLite2 / DB-IP Lite .mmdb file (`maxminddb`, an optional
dependency imported only then), it takes precedence and adds region and city; iptocc still answers
the country when the .mmdb has none for an address.

Privacy: callers derive the geo and drop the IP (DESIGN §6). The per-instance LRU keeps recent IP
strings in process memory only, to spare repeated lookups; it is never written anywhere.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Protocol

import iptocc

from firstmark.errors import ConfigError

__all__ = ["Geo", "GeoLookup", "MmdbReader", "ipv4_int"]

_CACHE_SIZE: Final = 65536
_MAX_IP_CHARS: Final = 64  # longest IPv6 text plus a zone id; longer input is not an address
_MAX_NAME_CHARS: Final = 128


@dataclass(frozen=True, slots=True)
class Geo:
    country: str | None  # ISO 3166-1 alpha-2, upper case
    region: str | None
    city: str | None


_NOWHERE: Final = Geo(None, None, None)


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
        quad = ipv4_int(ip)
        if quad is not None and _IPV4_NOT_GLOBAL is not None:
            # Most addresses: a dotted quad, checked without building an IPv4Address (a tenth
            # of the time, which counts when every event comes from another address).
            if any(lo <= quad <= hi for lo, hi in _IPV4_NOT_GLOBAL):
                return _NOWHERE
            try:
                return self._known(ip)
            except Exception:
                return _NOWHERE
        try:
            address = ipaddress.ip_address(ip.strip().strip("[]"))
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
                address = address.ipv4_mapped
            if not address.is_global or address.is_multicast:
                return _NOWHERE
            return self._known(str(address))
        except Exception:  # untrusted input and third-party data: a lookup never fails a request
            return _NOWHERE

    def _known(self, text: str) -> Geo:
        """A global unicast address in its normal text form."""
        geo = self._from_mmdb(text)
        if geo.country is None:
            country = _country_code(iptocc.country_code(text))
            if country is not None:
                geo = Geo(country, geo.region, geo.city)
        return geo

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


def ipv4_int(ip: str) -> int | None:
    """A dotted quad as ipaddress reads it (no leading zeros, each part 0-255), as an integer;
    None for anything else."""
    parts = ip.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if (
            not (part.isascii() and part.isdigit())
            or len(part) > 3
            or (len(part) > 1 and part[0] == "0")
        ):
            return None
        octet = int(part)
        if octet > 255:
            return None
        value = value * 256 + octet
    return value


def _not_global_ipv4() -> tuple[tuple[int, int], ...] | None:
    """The IPv4 ranges that are not global unicast, as this Python's ipaddress defines them
    (is_global, is_multicast); None when its tables are not where they used to be."""
    try:
        constants: Any = ipaddress._IPv4Constants  # type: ignore[attr-defined]
        networks = [*constants._private_networks, constants._public_network,
                    constants._multicast_network]  # fmt: skip
        if getattr(constants, "_private_networks_exceptions", None):
            return None  # newer rules with exceptions inside private ranges: the slow path
    except AttributeError:
        return None
    return tuple((int(n.network_address), int(n.broadcast_address)) for n in networks)


_IPV4_NOT_GLOBAL: Final = _not_global_ipv4()


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
