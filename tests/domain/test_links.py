"""Links from user input: codes, reserved words, field checks, patches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain import links
from firstmark.domain.links import LinkPolicy, apply_patch, new_link
from firstmark.domain.utm import DEFAULT_TAXONOMY
from firstmark.errors import InvalidField

NOW = datetime(2026, 11, 25, tzinfo=UTC)
POLICY = LinkPolicy(default_host="fm.test", taxonomy=DEFAULT_TAXONOMY)


def test_generated_codes_are_seven_base62_characters() -> None:
    codes = {links.generate_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 7 and c.isalnum() and c.isascii() for c in codes)


@pytest.mark.parametrize(
    "code", ["api", "API", "q", "healthz", "Dashboard", "fm.js", "FM-Phone.js", "static", "metrics"]
)
def test_reserved_words_are_refused(code: str) -> None:
    with pytest.raises(InvalidField) as err:
        links.validate_code(code)
    assert err.value.code == "reserved_code"


@pytest.mark.parametrize("code", ["", "a b", "x/y", "é", "a" * 65, "a.b", "%41"])
def test_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidField):
        links.validate_code(code)


@given(st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True))
def test_any_slug_shape_is_accepted_unless_reserved(code: str) -> None:
    if links.is_reserved(code):
        return
    assert links.validate_code(code) == code


def test_new_link_normalises_and_warns() -> None:
    prepared = new_link(
        {
            "destination": "https://Shop.Example/Spring",
            "utm_source": " LinkedIn ",
            "utm_campaign": "Spring Sale",
            "tags": ["Print", "print", " oslo "],
            "domain": "FM.TEST",
        },
        POLICY,
        NOW,
    )
    link = prepared.link
    assert link.destination == "https://shop.example/Spring"
    assert link.utm_source == "linkedin" and link.utm_campaign == "spring-sale"
    assert link.tags == ("print", "oslo")
    assert link.domain == ""  # the default host is stored as the default domain
    assert len(link.code) == 7 and not prepared.code_given
    assert [w.field for w in prepared.warnings] == ["utm_source", "utm_campaign"]


def test_read_only_keys_are_ignored_so_a_get_can_be_sent_back() -> None:
    prepared = new_link(
        {"destination": "https://a.example/", "id": 3, "short_url": "x", "version": 9}, POLICY, NOW
    )
    assert prepared.link.id is None and prepared.link.version == 1


def test_patch_changes_only_given_keys_and_null_clears() -> None:
    link = new_link(
        {"destination": "https://a.example/", "utm_source": "google", "max_hits": 3, "tags": ["a"]},
        POLICY,
        NOW,
    ).link
    patched = apply_patch(link, {"max_hits": None, "tags": None, "campaign": "x"}, POLICY, NOW).link
    assert patched.max_hits is None and patched.tags == () and patched.campaign == "x"
    assert patched.utm_source == "google" and patched.version == 2
    with pytest.raises(InvalidField) as err:
        apply_patch(link, {"code": None}, POLICY, NOW)
    assert err.value.field == "code"
    with pytest.raises(InvalidField) as err:
        apply_patch(link, {"destination": None}, POLICY, NOW)
    assert err.value.field == "destination"


def test_allowed_destination_hosts() -> None:
    strict = LinkPolicy(allowed_hosts=("shop.example",))
    assert new_link({"destination": "https://www.shop.example/"}, strict, NOW)
    with pytest.raises(InvalidField) as err:
        new_link({"destination": "https://evil.example/"}, strict, NOW)
    assert err.value.code == "host_not_allowed"


def test_short_urls() -> None:
    link = new_link({"destination": "https://a.example/", "code": "x"}, POLICY, NOW).link
    assert links.short_url(link, "https://fm.example/") == "https://fm.example/x"
    branded = new_link(
        {"destination": "https://a.example/", "code": "x", "domain": "go.brand.example"},
        POLICY,
        NOW,
    ).link
    assert (
        links.short_url(branded, "https://fm.example", scan=True) == "https://go.brand.example/q/x"
    )
