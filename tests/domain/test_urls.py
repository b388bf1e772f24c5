from __future__ import annotations

from collections.abc import Collection
from urllib.parse import quote, unquote_plus, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain.urls import (
    MAX_URL_LENGTH,
    append_param,
    split_fragment,
    validate_destination,
    with_params,
)
from firstmark.errors import InvalidField


def refused(
    url: object, field: str = "destination", allowed_hosts: Collection[str] = ()
) -> InvalidField:
    with pytest.raises(InvalidField) as caught:
        validate_destination(url, field, allowed_hosts=allowed_hosts)
    return caught.value


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://example.com", "https://example.com"),
        ("http://example.com/", "http://example.com/"),
        ("https://example.com/a/b?x=1&y=2#top", "https://example.com/a/b?x=1&y=2#top"),
        ("HTTPS://Example.COM/Path?Q=A#F", "https://example.com/Path?Q=A#F"),
        ("  https://example.com/x \n", "https://example.com/x"),
        ("\u00a0https://example.com/x\u3000", "https://example.com/x"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com:08443/x", "https://example.com:8443/x"),
        ("https://example.com:/x", "https://example.com/x"),
        ("http://example.com:65535", "http://example.com:65535"),
        ("https://sub.domain.example.co.uk/", "https://sub.domain.example.co.uk/"),
        ("https://example.com./", "https://example.com./"),
        ("https://my_host.example.com/", "https://my_host.example.com/"),
        ("https://bücher.de/", "https://xn--bcher-kva.de/"),
        ("https://例え.テスト/", "https://xn--r8jz45g.xn--zckzah/"),
        ("https://xn--bcher-kva.de/", "https://xn--bcher-kva.de/"),
        ("https://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com/", "https://example.com/"),
        ("https://example.com/straße?q=ä#é", "https://example.com/stra%C3%9Fe?q=%C3%A4#%C3%A9"),
        ("https://example.com/a%20b?q=%2F", "https://example.com/a%20b?q=%2F"),
        ("https://example.com/?next=https://other.example/", None),
        ("https://example.com/p@th?mail=a@b.c", None),
        ("https://example.com?@evil.com", None),
        ("https://example.com#@evil.com", None),
        ("https://example.com/javascript:alert(1)", None),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/"),
        ("http://[::1]/", "http://[::1]/"),
        ("http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
        ("https://example.com/" + "a" * (MAX_URL_LENGTH - 20), None),
    ],
)
def test_accepted(url: str, stored: str | None) -> None:
    assert validate_destination(url) == (url if stored is None else stored)


@pytest.mark.parametrize("url", [None, 42, b"https://example.com", ["https://example.com"], {}])
def test_not_a_string(url: object) -> None:
    error = refused(url)
    assert error.code == "invalid_type"
    assert error.field == "destination"


def test_field_name_is_reported() -> None:
    error = refused("javascript:alert(1)", field="fallback_url")
    assert error.field == "fallback_url"
    assert error.message == "fallback_url must be an http or https URL"
    assert error.status == 422


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/" + "a" * MAX_URL_LENGTH,
        "javascript:" + "a" * MAX_URL_LENGTH,
        # Short enough as typed, too long once the host is in punycode or the path encoded.
        "https://" + "ü." * 31 + "com/" + "a" * (MAX_URL_LENGTH - 74),
        "https://example.com/" + "ü" * 1000,
    ],
)
def test_too_long(url: str) -> None:
    assert refused(url).code == "too_long"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "jAvAsCrIpT:alert(document.domain)",
        "javascript://example.com/%0aalert(1)",
        "javascript://%0aalert(1)//https://example.com",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "java\rscript:alert(1)",
        "jav\x09ascript:alert(1)",
        "\tjavascript:alert(1)",
        " javascript:alert(1)",
        "\x00javascript:alert(1)",
        "\x01\x02javascript:alert(1)",
        "\x1fjavascript:alert(1)",
        "\x00 \tjava\nscript:alert(1)",
        "javascript\t:alert(1)",
        "javascript%3Aalert(1)",
        "javascript%3aalert(1)",
        "%6Aavascript:alert(1)",
        "%6a%61%76%61%73%63%72%69%70%74%3aalert(1)",
        "&#106;avascript:alert(1)",
        "\u00a0javascript:alert(1)",
        "\u200bjavascript:alert(1)",
        "\uff4aavascript:alert(1)",
        "vbscript:msgbox(1)",
        "VBScript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "da\tta:text/html,x",
        " data:text/html,x",
        "file:///etc/passwd",
        "FILE:///C:/Windows/win.ini",
        "file://server/share",
        "fi\nle:///etc/passwd",
        "ftp://example.com/",
        "mailto:someone@example.com",
        "tel:+15555550100",
        "blob:https://example.com/uuid",
        "about:blank",
        "chrome://settings",
        "intent://scan/#Intent;scheme=zxing;end",
        "ws://example.com/",
        "httpx://example.com/",
        "http+unix://%2Fvar%2Frun/",
        "https%3A//example.com",
        "http%3A%2F%2Fexample.com",
        "//evil.com",
        "//evil.com/path",
        "///evil.com",
        "\\\\evil.com",
        "\\/evil.com",
        "/\\evil.com",
        "/relative/path",
        "example.com",
        "example.com/path?x=1",
        "www.example.com",
        "?x=1",
        "#top",
        ":",
        "://example.com",
        "1http://example.com",
    ],
)
def test_unsafe_scheme(url: str) -> None:
    error = refused(url)
    assert error.code == "unsafe_scheme", url
    assert error.message == "destination must be an http or https URL"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "\t\n",
        # http(s) as a browser reads it, but with characters we do not store
        "\x00https://example.com/",
        "ht\ttps://example.com/",
        "https://exa\nmple.com/",
        "https://example.com/a b",
        "https://example.com/a\x00b",
        "https://example.com/\x7f",
        "https://example.com/\u0085x",
        "https://example.com/\u200b",
        "https://example.com/\u202egnp.exe",
        "https://example.com/\u00a0x",
        "https://example.com/\u2028x",
        "https://example.com/\ud800",
        "https://example.com\\@evil.com/",
        "https:\\\\evil.com",
        "https:/\\evil.com",
        "https://example.com\\path",
        # Not "scheme://": browsers guess, we do not.
        "https:evil.com",
        "https:/evil.com",
        "http:example.com/path",
        "https:",
        # No host
        "https://",
        "http:///x",
        "https:///evil.com",
        "https://?x=1",
        "https://#x",
        "https://:443/",
        # Ports
        "https://example.com:0/",
        "https://example.com:65536/",
        "https://example.com:99999/",
        "https://example.com:123456/",
        "https://example.com:-1/",
        "https://example.com:http/",
        "https://example.com:8o/",
        "https://example.com:\uff18\uff10/",
        "https://example.com:80:80/",
        # Hosts
        "https://exa_mple..com/",
        "https://.example.com/",
        "https://example.com../",
        "https://exa!mple.com/",
        "https://exa%6Dple.com/",
        "https://ex<ample.com/",
        "https://" + "a" * 64 + ".com/",
        "https://" + ("a" * 60 + ".") * 5 + "com/",
        "https://evil.com\uff0f.good.com/",
        "https://evil.com\uff3c.good.com/",
        "https://evil.com\uff1f.good.com/",
        "https://faß.de/",
        "https://ΑΣ.ς.gr/",
        # Numeric hosts a browser reads as IPv4 in disguise
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://0177.0.0.1/",
        "http://1.2.3.4.5/",
        "http://256.1.1.1/",
        "http://example.123/",
        # IPv6
        "http://[::1/",
        "http://[::1]x/",
        "http://[not-ipv6]/",
        "http://[1.2.3.4]/",
        "http://[fe80::1%25eth0]/",
        "http://[fe80::1%eth0]/",
        "http://[v1.fe]/",
        "http://::1/",
        "http://[]/",
    ],
)
def test_invalid_url(url: str) -> None:
    assert refused(url).code == "invalid_url", url


@pytest.mark.parametrize(
    "url",
    [
        "https://user@example.com/",
        "https://user:pass@example.com/",
        "https://:pass@example.com/",
        "https://@example.com/",
        "https://good.com@evil.com/",
        "https://good.com:443@evil.com/",
        "https://user%40good.com@evil.com/",
        "HTTP://USER:PASS@EXAMPLE.COM",
        "https://a@b@c.com/",
        "https://user@[::1]/",
    ],
)
def test_credentials_in_url(url: str) -> None:
    error = refused(url)
    assert error.code == "credentials_in_url", url
    assert "user name or password" in error.message


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://example.com/", ["example.com"]),
        ("https://EXAMPLE.com/", ["Example.COM"]),
        ("https://shop.example.com/", ["example.com"]),
        ("https://a.b.example.com/", ["other.org", "example.com"]),
        ("https://example.com./", ["example.com"]),
        ("https://example.com/", ["example.com."]),
        ("https://shop.example.com/", ["*.example.com"]),
        ("https://xn--bcher-kva.de/", ["bücher.de"]),
        ("https://bücher.de/", ["xn--bcher-kva.de"]),
        ("http://[::1]:8000/", ["[::1]"]),
        ("http://[::1]:8000/", ["::1"]),
        ("http://127.0.0.1/", ["127.0.0.1"]),
    ],
)
def test_allowed_hosts_accept(url: str, allowed: list[str]) -> None:
    assert validate_destination(url, allowed_hosts=allowed)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://evil.com/", ["example.com"]),
        ("https://notexample.com/", ["example.com"]),
        ("https://example.com.evil.com/", ["example.com"]),
        ("https://example.co/", ["example.com"]),
        ("https://com/", ["example.com"]),
        ("https://evil.com/?https://example.com/", ["example.com"]),
        ("https://evil.com/#.example.com", ["example.com"]),
        ("https://evil.com/.example.com", ["example.com"]),
        ("http://127.0.0.2/", ["127.0.0.1"]),
    ],
)
def test_allowed_hosts_refuse(url: str, allowed: list[str]) -> None:
    assert refused(url, allowed_hosts=allowed).code == "host_not_allowed"


def test_empty_allow_list_allows_every_host() -> None:
    assert validate_destination("https://anything.example/", allowed_hosts=[])


def test_scheme_is_checked_before_the_allow_list() -> None:
    assert refused("javascript:alert(1)", allowed_hosts=["example.com"]).code == "unsafe_scheme"


# -- properties ---------------------------------------------------------------------------------

_URLISH = st.builds(
    lambda head, parts: head + "".join(parts),
    st.sampled_from(["", "http://", "https://", "HTTPS://", " https://", "\x00http://"]),
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "http://",
                    "https://",
                    "HTTPS://",
                    "javascript:",
                    "data:",
                    "//",
                    "\\",
                    "@",
                    ":",
                    "::",
                    "[",
                    "]",
                    "[::1]",
                    ":80",
                    ":0",
                    "/",
                    "?",
                    "#",
                    "&",
                    "=",
                    "%",
                    "%40",
                    "%2F",
                    ".",
                    "..",
                    "example.com",
                    "xn--",
                    "ü",
                    "ß",
                    "\uff20",
                    "\uff0f",
                    " ",
                    "\t",
                    "\n",
                    "\x00",
                    "\u202e",
                    "0x7f",
                    "127.0.0.1",
                    "user:pw@",
                ]
            ),
            st.text(max_size=5),
        ),
        max_size=12,
    ),
)


@given(_URLISH)
def test_accepted_urls_are_safe(url: str) -> None:
    try:
        stored = validate_destination(url)
    except InvalidField as error:
        assert error.code in {"invalid_url", "unsafe_scheme", "credentials_in_url", "too_long"}
        return
    parts = urlsplit(stored)
    assert parts.scheme in {"http", "https"}
    assert stored.startswith(f"{parts.scheme}://")
    assert parts.hostname
    assert "@" not in parts.netloc
    assert len(stored) <= MAX_URL_LENGTH
    assert stored.isascii()
    assert not any(ch in stored for ch in " \t\r\n\\\x00")
    assert validate_destination(stored) == stored


@given(st.text(max_size=40))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        validate_destination(text)
    except InvalidField:
        pass


@given(st.text(max_size=40))
def test_anything_after_javascript_is_refused(rest: str) -> None:
    for prefix in ("javascript:", "JavaScript:", " java\tscript:", "\x00data:", "file:"):
        assert refused(prefix + rest).code in {"unsafe_scheme", "too_long"}


# -- with_params ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "params", "expected"),
    [
        ("https://a.example/", [("utm_source", "x")], "https://a.example/?utm_source=x"),
        ("https://a.example", [("a", "1")], "https://a.example?a=1"),
        ("https://a.example/p?x=1", [("a", "1")], "https://a.example/p?x=1&a=1"),
        ("https://a.example/p?x=1#f", [("a", "1")], "https://a.example/p?x=1&a=1#f"),
        ("https://a.example/p#f?x=1", [("a", "1")], "https://a.example/p?a=1#f?x=1"),
        (
            "https://a.example/?utm_source=old&x=1&utm_source=older",
            [("utm_source", "new")],
            "https://a.example/?x=1&utm_source=new",
        ),
        (
            "https://a.example/?utm%5Fsource=old&x=1",
            [("utm_source", "n")],
            "https://a.example/?x=1&utm_source=n",
        ),
        ("https://a.example/?a+b=1&c=2", [("a b", "x")], "https://a.example/?c=2&a%20b=x"),
        ("https://a.example/?flag&x=1", [("flag", "1")], "https://a.example/?x=1&flag=1"),
        ("https://a.example/?x=1&&y=2&", [("a", "1")], "https://a.example/?x=1&y=2&a=1"),
        ("https://a.example/?", [("a", "1")], "https://a.example/?a=1"),
        # the destination's own encoding is kept byte for byte
        (
            "https://a.example/?q=a+b&r=%7e&s=%2F&t=x=y",
            [("z", "1")],
            "https://a.example/?q=a+b&r=%7e&s=%2F&t=x=y&z=1",
        ),
        # new values are encoded with nothing left safe
        (
            "https://a.example/",
            [("utm_campaign", "a b/c&d=e#f?ü")],
            "https://a.example/?utm_campaign=a%20b%2Fc%26d%3De%23f%3F%C3%BC",
        ),
        (
            "https://a.example/?b=0",
            [("b", "1"), ("a", "2"), ("b", "3")],
            "https://a.example/?b=1&a=2&b=3",
        ),
        ("https://a.example/?x=1#f", [], "https://a.example/?x=1#f"),
        ("https://a.example/p?x=1&&#f", [], "https://a.example/p?x=1&&#f"),
    ],
)
def test_with_params(url: str, params: list[tuple[str, str]], expected: str) -> None:
    assert with_params(url, params) == expected


_NAME = st.text(alphabet="abcxyz_%+ 2F=", min_size=1, max_size=6)
_PIECE = st.builds(lambda n, v: f"{n}={v}", _NAME, st.text(alphabet="abc%2F+ =/?:@", max_size=6))
_PARAMS = st.lists(st.tuples(_NAME, st.text(max_size=6)), min_size=1, max_size=4)


@given(
    st.sampled_from(["https://a.example", "https://a.example/p/q", "http://[::1]:8/x;y"]),
    st.lists(_PIECE, max_size=5),
    st.sampled_from(["", "#", "#frag", "#a?b=c&d", "#%20"]),
    _PARAMS,
)
def test_with_params_properties(
    base: str, pieces: list[str], fragment: str, params: list[tuple[str, str]]
) -> None:
    url = base + ("?" + "&".join(pieces) if pieces else "") + fragment
    result = with_params(url, params)

    head, tail = split_fragment(result)
    assert tail == fragment
    path, _, query = head.partition("?")
    assert path == base
    got = query.split("&")

    names = {name for name, _ in params}
    others = [p for p in pieces if unquote_plus(p.partition("=")[0]) not in names]
    added = [f"{quote(n, safe='')}={quote(v, safe='')}" for n, v in params]
    assert got == others + added
    assert with_params(result, params) == result


# -- split_fragment / append_param ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a/b?x=1#frag", ("https://a/b?x=1", "#frag")),
        ("https://a/b?x=1", ("https://a/b?x=1", "")),
        ("https://a/#", ("https://a/", "#")),
        ("https://a/#x#y", ("https://a/", "#x#y")),
        ("", ("", "")),
    ],
)
def test_split_fragment(url: str, expected: tuple[str, str]) -> None:
    assert split_fragment(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a/b", "https://a/b?fm=T0k"),
        ("https://a", "https://a?fm=T0k"),
        ("https://a/b?x=1", "https://a/b?x=1&fm=T0k"),
        ("https://a/b?", "https://a/b?fm=T0k"),
        ("https://a/b?x=1&", "https://a/b?x=1&fm=T0k"),
    ],
)
def test_append_param(url: str, expected: str) -> None:
    assert append_param(url, "fm", "T0k") == expected


_SAFE = st.text(alphabet="abcXYZ019-_.~", min_size=1, max_size=8)


@given(
    st.sampled_from(["https://a.example", "https://a.example/p", "https://a.example/p?x=1&y"]),
    st.sampled_from(["", "#", "#f", "#f?z=1&q"]),
    _SAFE,
    _SAFE,
)
def test_append_param_round_trip(base: str, fragment: str, name: str, value: str) -> None:
    head, tail = split_fragment(base + fragment)
    assert (head, tail) == (base, fragment)
    tagged = append_param(head, name, value) + tail
    assert split_fragment(tagged) == (append_param(base, name, value), fragment)
    assert tagged.endswith(f"{name}={value}{fragment}")
    assert with_params(base + fragment, [(name, value)]).endswith(f"{name}={value}{fragment}")
