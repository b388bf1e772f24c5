"""Click tokens, API keys, visitor hashes, passwords and stats arithmetic."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain import keys, passwords, stats, visitors
from firstmark.domain.clicks import ClickSigner, b62, from_b62
from firstmark.errors import InvalidField
from firstmark.store import RollupRow


@given(st.integers(min_value=0, max_value=2**63))
def test_base62_round_trip(n: int) -> None:
    assert from_b62(b62(n)) == n


@given(st.integers(min_value=1, max_value=2**40), st.integers(min_value=0, max_value=2**33))
def test_click_tokens_verify_and_resist_tampering(link_id: int, ts: int) -> None:
    signer = ClickSigner("secret")
    token = signer.token(link_id, ts)
    click = signer.verify(token)
    assert click is not None and (click.link_id, click.ts) == (link_id, ts)
    assert token.replace(".", "", 1) != token
    forged = b62(link_id + 1) + token[len(b62(link_id)) :]
    assert signer.verify(forged) is None
    assert ClickSigner("other").verify(token) is None
    assert all(c.isalnum() or c in "._-=" for c in token)


@pytest.mark.parametrize("token", ["", "a.b.c", "a.b.c.d.e", "!.!.!.!"])
def test_garbage_tokens_are_refused(token: str) -> None:
    assert ClickSigner("secret").verify(token) is None


def test_api_keys() -> None:
    shown, key = keys.new_key(("links:read",))
    prefix, secret = keys.split_key(shown) or ("", "")
    assert prefix == key.prefix and keys.matches(key, secret)
    assert not keys.matches(key, secret + "x")
    assert secret not in key.hash
    assert key.allows("links:read") and not key.allows("links:write")
    admin = keys.new_key(("admin",))[1]
    assert admin.allows("reports:read")
    assert keys.split_key("Bearer x") is None
    assert keys.parse_scopes(["links:read,links:write", "links:read"]) == (
        "links:read",
        "links:write",
    )
    with pytest.raises(InvalidField):
        keys.parse_scopes(["links:destroy"])


def test_visitor_hash_changes_with_the_salt_and_the_visitor() -> None:
    a, b = visitors.new_salt(), visitors.new_salt()
    base = visitors.visitor_day_hash(a, "fm.test", "198.51.100.1", "UA")
    assert base == visitors.visitor_day_hash(a, "fm.test", "198.51.100.1", "UA")
    assert base != visitors.visitor_day_hash(b, "fm.test", "198.51.100.1", "UA")
    assert base != visitors.visitor_day_hash(a, "fm.test", "198.51.100.2", "UA")
    assert base != visitors.visitor_day_hash(a, "other.test", "198.51.100.1", "UA")
    assert "198.51.100.1" not in base and len(base) == 24
    # The definition stays the same across versions, or an upgrade day counts everyone twice.
    reference = hashlib.blake2b(b"fm.test\x00198.51.100.1\x00UA", digest_size=12, key=a)
    assert base == reference.hexdigest()


def test_passwords() -> None:
    stored = passwords.hash_password("open sesame")
    assert stored.startswith("scrypt$") and "open sesame" not in stored
    assert passwords.check_password("open sesame", stored)
    assert not passwords.check_password("open sesame!", stored)
    assert not passwords.check_password("x", "garbage")
    assert stored != passwords.hash_password("open sesame")  # salted


def test_series_is_gap_free_and_sums_to_totals() -> None:
    now = datetime(2026, 11, 25, 13, 30, tzinfo=UTC)
    span = stats.parse_range({"interval": "hour"}, now)
    assert span.end == datetime(2026, 11, 25, 14, tzinfo=UTC)
    base = int(span.start.timestamp())
    rows = [
        RollupRow(base, "click", 5, 1, 3),
        RollupRow(base + 3600 * 5, "scan", 2, 0, 2),
        RollupRow(base - 3600, "click", 100, 0, 100),  # outside the range
    ]
    points = stats.series(rows, span)
    assert len(points) == 48
    assert points[0]["humans"] == 4 and points[5]["scans"] == 2
    assert sum(int(p["hits"]) for p in points) == 7  # type: ignore[call-overload]
    assert stats.totals(rows[:2]) == {
        "hits": 7,
        "humans": 6,
        "bots": 1,
        "uniques": 5,
        "clicks": 4,
        "scans": 2,
    }
