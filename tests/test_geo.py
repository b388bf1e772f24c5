"""IP → country (iptocc), and region/city from an operator's .mmdb taking precedence."""

from __future__ import annotations

import ipaddress
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from firstmark.errors import ConfigError
from firstmark.geo import _V4, _V6, Geo, GeoLookup, public_address

NOWHERE = Geo(None, None, None)
OSLO_RECORD = {
    "country": {"iso_code": "NO"},
    "subdivisions": [{"names": {"en": "Oslo"}}],
    "city": {"names": {"en": "Oslo"}},
}


class FakeReader:
    """Stands in for maxminddb.Reader: answers from a dict and counts what it is asked."""

    def __init__(self, records: dict[str, Any], *, fail: bool = False) -> None:
        self.records = records
        self.fail = fail
        self.asked: list[str] = []
        self.closed = False

    def get(self, ip_address: str) -> Any:
        self.asked.append(ip_address)
        if self.fail:
            raise ValueError("corrupt database")
        return self.records.get(ip_address)

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("8.8.8.8", "US"),
        ("1.1.1.1", "AU"),
        ("81.2.69.142", "GB"),
        ("2001:4860:4860::8888", "US"),
        ("::ffff:8.8.8.8", "US"),  # IPv4-mapped, as dual-stack sockets report it
        (" 8.8.8.8 ", "US"),
    ],
)
def test_public_addresses_map_to_a_country(ip: str, country: str) -> None:
    assert GeoLookup().lookup(ip) == Geo(country, None, None)


@pytest.mark.parametrize(
    "ip",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "100.64.0.1",  # carrier-grade NAT
        "169.254.1.1",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.1",
        "192.0.2.1",  # documentation range
        "::1",
        "fe80::1",
        "fe80::1%eth0",
        "fd00::1",
        "2001:db8::1",
        "::ffff:10.0.0.1",
        "",
        "garbage",
        "999.1.1.1",
        "8.8.8",
        "8.8.8.8:443",
        "8.8.8.8, 1.1.1.1",
        "x" * 10_000,
        "\ud800",
    ],
)
def test_private_reserved_and_garbage_give_nothing(ip: str) -> None:
    assert GeoLookup().lookup(ip) == NOWHERE


def test_mmdb_takes_precedence_over_iptocc() -> None:
    geo = GeoLookup(reader=FakeReader({"8.8.8.8": OSLO_RECORD}))
    assert geo.lookup("8.8.8.8") == Geo("NO", "Oslo", "Oslo")


def test_iptocc_answers_when_the_mmdb_does_not_know_the_address() -> None:
    reader = FakeReader({})
    geo = GeoLookup(reader=reader)
    assert geo.lookup("8.8.8.8") == Geo("US", None, None)
    assert reader.asked == ["8.8.8.8"]


def test_iptocc_fills_a_missing_country_and_the_mmdb_keeps_its_city() -> None:
    record = {"city": {"names": {"en": "Mountain View"}}}
    geo = GeoLookup(reader=FakeReader({"8.8.8.8": record}))
    assert geo.lookup("8.8.8.8") == Geo("US", None, "Mountain View")


def test_registered_country_is_used_when_country_is_absent() -> None:
    record = {"registered_country": {"iso_code": "se"}}
    geo = GeoLookup(reader=FakeReader({"8.8.8.8": record}))
    assert geo.lookup("8.8.8.8") == Geo("SE", None, None)


@pytest.mark.parametrize(
    "record",
    [
        "not a mapping",
        {"country": {"iso_code": 47}, "subdivisions": "Oslo", "city": {"names": "Oslo"}},
        {"country": {"iso_code": "Norway"}, "subdivisions": [], "city": None},
        {"country": "NO", "subdivisions": [{"names": {"en": "  "}}]},
    ],
)
def test_odd_mmdb_records_fall_back_to_iptocc(record: Any) -> None:
    geo = GeoLookup(reader=FakeReader({"8.8.8.8": record}))
    assert geo.lookup("8.8.8.8") == Geo("US", None, None)


def test_a_failing_reader_falls_back_to_iptocc() -> None:
    geo = GeoLookup(reader=FakeReader({}, fail=True))
    assert geo.lookup("8.8.8.8") == Geo("US", None, None)


def test_private_addresses_never_reach_the_reader() -> None:
    reader = FakeReader({"10.0.0.1": OSLO_RECORD})
    assert GeoLookup(reader=reader).lookup("10.0.0.1") == NOWHERE
    assert reader.asked == []


def test_lookups_are_cached_per_instance() -> None:
    reader = FakeReader({"8.8.8.8": OSLO_RECORD})
    first, second = GeoLookup(reader=reader), GeoLookup(reader=reader)
    assert first.lookup("8.8.8.8") == first.lookup("8.8.8.8") == Geo("NO", "Oslo", "Oslo")
    assert reader.asked == ["8.8.8.8"]
    second.lookup("8.8.8.8")
    assert reader.asked == ["8.8.8.8", "8.8.8.8"]


def test_close_closes_the_reader_and_lookups_still_answer() -> None:
    reader = FakeReader({"8.8.8.8": OSLO_RECORD})
    geo = GeoLookup(reader=reader)
    assert geo.lookup("8.8.8.8").city == "Oslo"
    geo.close()
    assert reader.closed
    assert geo.lookup("8.8.8.8") == Geo("US", None, None)
    geo.close()  # twice is fine


def test_missing_mmdb_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as raised:
        GeoLookup(str(tmp_path / "GeoLite2-City.mmdb"))
    assert raised.value.field == "FIRSTMARK_GEOIP_DB"


@pytest.mark.parametrize("content", [b"", b"this is not a MaxMind database"])
def test_unreadable_mmdb_file_is_a_config_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.mmdb"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match="cannot be read"):
        GeoLookup(str(path))


def test_a_directory_is_not_an_mmdb_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        GeoLookup(str(tmp_path))


def test_mmdb_without_maxminddb_installed_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "maxminddb", None)  # makes `import maxminddb` fail
    with pytest.raises(ConfigError, match="maxminddb"):
        GeoLookup(str(tmp_path / "GeoLite2-City.mmdb"))


# --- a real .mmdb file ------------------------------------------------------------------------
# A minimal MaxMind DB writer (format spec: https://maxmind.github.io/MaxMind-DB/), enough for an
# IPv4-only database with one /8 network, so the maxminddb path is tested on a real file.


def _control(type_: int, size: int) -> bytes:
    assert size < 29
    if type_ <= 7:
        return bytes([(type_ << 5) | size])
    return bytes([size, type_ - 7])  # extended type


def _encode(value: Any) -> bytes:
    if isinstance(value, str):
        raw = value.encode()
        return _control(2, len(raw)) + raw
    if isinstance(value, tuple):  # (type, int): 5 uint16, 6 uint32, 9 uint64
        type_, number = int(value[0]), int(value[1])
        raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
        return _control(type_, len(raw)) + raw
    if isinstance(value, list):
        return _control(11, len(value)) + b"".join(_encode(item) for item in value)
    if isinstance(value, dict):
        pairs = b"".join(_encode(key) + _encode(item) for key, item in value.items())
        return _control(7, len(value)) + pairs
    raise TypeError(value)


def write_mmdb(path: Path, first_octet: int, record: dict[str, Any]) -> None:
    """An IPv4 database, 24-bit records, where {first_octet}.0.0.0/8 holds `record`."""
    node_count = 8
    empty, data = node_count, node_count + 16  # data pointers start past the 16-byte separator
    tree = b""
    for depth in range(8):
        bit = (first_octet >> (7 - depth)) & 1
        follow = depth + 1 if depth < 7 else data
        left, right = (follow, empty) if bit == 0 else (empty, follow)
        tree += left.to_bytes(3, "big") + right.to_bytes(3, "big")
    metadata = {
        "node_count": (6, node_count),
        "record_size": (5, 24),
        "ip_version": (5, 4),
        "database_type": "firstmark-test",
        "languages": ["en"],
        "binary_format_major_version": (5, 2),
        "binary_format_minor_version": (5, 0),
        "build_epoch": (9, 1764028800),
        "description": {"en": "firstmark test database"},
    }
    marker = b"\xab\xcd\xefMaxMind.com"
    path.write_bytes(tree + bytes(16) + _encode(record) + marker + _encode(metadata))


def test_a_real_mmdb_file_gives_region_and_city(tmp_path: Path) -> None:
    path = tmp_path / "tiny.mmdb"
    write_mmdb(path, 8, OSLO_RECORD)
    geo = GeoLookup(str(path))
    try:
        assert geo.lookup("8.8.8.8") == Geo("NO", "Oslo", "Oslo")
        assert geo.lookup("1.1.1.1") == Geo("AU", None, None)  # not in the file: iptocc
        # the reader refuses IPv6 on an IPv4-only file; iptocc still answers
        assert geo.lookup("2001:4860:4860::8888") == Geo("US", None, None)
        assert geo.lookup("10.0.0.1") == NOWHERE
    finally:
        geo.close()


def _reference(ip: str) -> str | None:
    """What `ipaddress` says: the canonical text of a public unicast address, else None."""
    try:
        address = ipaddress.ip_address(ip.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address) if address.is_global and not address.is_multicast else None


def test_public_address_agrees_with_ipaddress_at_every_range_edge_and_at_random() -> None:
    rng = random.Random(15)
    samples = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(20_000)]
    samples += [str(ipaddress.IPv6Address(rng.getrandbits(128))) for _ in range(2_000)]
    for start in _V4.starts:
        samples += [str(ipaddress.IPv4Address(n)) for n in (start - 1, start, start + 1)
                    if 0 <= n < 2**32]  # fmt: skip
    for start in _V6.starts:
        samples += [str(ipaddress.IPv6Address(n)) for n in (start - 1, start, start + 1)
                    if 0 <= n < 2**128]  # fmt: skip
    samples += ["::ffff:" + s for s in samples[:2_000]]
    samples += ["01.2.3.4", "1.2.3", "8.8.8.8:80", "fe80::1%eth0", "[2001:4860::8888]", "", "x"]
    wrong = [s for s in samples if public_address(s) != _reference(s)]
    assert wrong == []
