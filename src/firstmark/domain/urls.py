"""Destination URLs: which ones we agree to redirect to, and how tags are put on them.

A short link sends strangers to its destination, so the check is strict and mirrors how browsers
read a URL (WHATWG): whatever a browser would run as script, or read as another host or as
credentials, is refused when the link is saved, never at click time. Only the scheme and host are
normalised; the rest is kept as typed, apart from non-ASCII characters, which are percent-encoded
(as browsers do) so the stored URL can go into a `Location` header as is.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Collection, Sequence
from urllib.parse import quote, unquote_plus, urlencode

from firstmark.errors import InvalidField

MAX_URL_LENGTH = 2048

_SAFE_SCHEMES = frozenset({"http", "https"})
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# Browsers drop C0 controls and spaces around a URL and tabs/newlines anywhere inside it before they
# read the scheme: "\x00java\tscript:" runs as javascript:, so the scheme is judged on that view.
_C0_AND_SPACE = "".join(chr(i) for i in range(0x21))
_DROP_TAB_NEWLINE = str.maketrans("", "", "\t\n\r")
# Inside the URL: no whitespace, no controls, no backslash (browsers read "\" as "/" in http URLs,
# which moves the host boundary: "https://good.com\\@evil.com").
_BAD_ASCII = re.compile(r"[\x00-\x20\x7f\\]")
# Non-ASCII controls, invisible format characters (bidi overrides, zero-width joiners), surrogates
# and every kind of space: all of them can hide what the URL really points at.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})
_HOST = re.compile(r"(?:[a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}\.?")
# A host whose last label is a number is an IPv4 address to a browser ("0x7f.1", "2130706433").
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_PORT = re.compile(r"[0-9]{1,5}")
# IDNA 2003 (the stdlib codec) maps these to other letters ("ß" -> "ss"); browsers do not, so the
# stored host would not be the one the user meant.
_IDNA_DEVIATIONS = frozenset("\u00df\u03c2")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def validate_destination(
    url: object, field: str = "destination", *, allowed_hosts: Collection[str] = ()
) -> str:
    """Return `url` as it should be stored, or raise `InvalidField` saying what is wrong with it."""
    if not isinstance(url, str):
        raise InvalidField(field, f"{field} must be a string", code="invalid_type")
    text = url.strip()
    if not text:
        raise InvalidField(field, f"{field} must not be empty", code="invalid_url")
    if len(text) > MAX_URL_LENGTH:
        raise _too_long(field)

    browser_view = text.translate(_DROP_TAB_NEWLINE).strip(_C0_AND_SPACE)
    match = _SCHEME.match(browser_view)
    if match is None or match[0][:-1].lower() not in _SAFE_SCHEMES:
        raise InvalidField(field, f"{field} must be an http or https URL", code="unsafe_scheme")
    if _has_bad_char(text):
        raise _invalid(field, "must not contain spaces, control characters or backslashes")

    # No bad characters, so `text` starts with the scheme the browser view found.
    scheme = match[0][:-1].lower()
    rest = text[len(match[0]) :]
    if not rest.startswith("//"):
        raise _invalid(field, f"must start with {scheme}://")
    rest = rest[2:]
    end = len(rest)
    for stop in "/?#":
        at = rest.find(stop)
        if 0 <= at < end:
            end = at
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        raise InvalidField(
            field,
            f"{field} must not contain a user name or password",
            code="credentials_in_url",
        )

    host, port = _split_authority(authority, field)
    host = _normalise_host(host, field)
    if allowed_hosts and not _host_allowed(host, allowed_hosts):
        raise InvalidField(
            field, f"{field} points to a host that is not allowed", code="host_not_allowed"
        )

    stored = f"{scheme}://{host}{':' + port if port else ''}{_encode_non_ascii(tail)}"
    if len(stored) > MAX_URL_LENGTH:
        raise _too_long(field)
    return stored


def with_params(url: str, params: Sequence[tuple[str, str]]) -> str:
    """Set `params` on `url`, replacing parameters of the same names.

    The destination's own parameters keep their order and exact bytes: re-encoding them could
    break signed URLs or values the target site reads in its own way.
    """
    if not params:
        return url
    base, fragment = split_fragment(url)
    path, _, query = base.partition("?")
    names = {name for name, _ in params}
    kept = [
        piece
        for piece in query.split("&")
        if piece and unquote_plus(piece.partition("=")[0]) not in names
    ]
    kept.append(urlencode(params, quote_via=quote))
    return f"{path}?{'&'.join(kept)}{fragment}"


def split_fragment(url: str) -> tuple[str, str]:
    """Split off the '#fragment' so parameters can be added before it."""
    at = url.find("#")
    if at < 0:
        return url, ""
    return url[:at], url[at:]


def append_param(url_without_fragment: str, name: str, value: str) -> str:
    """Add one already URL-safe parameter; the per-click path, so no parsing."""
    if url_without_fragment.endswith(("?", "&")):
        return f"{url_without_fragment}{name}={value}"
    sep = "&" if "?" in url_without_fragment else "?"
    return f"{url_without_fragment}{sep}{name}={value}"


def _invalid(field: str, problem: str) -> InvalidField:
    return InvalidField(field, f"{field} {problem}", code="invalid_url")


def _too_long(field: str) -> InvalidField:
    return InvalidField(
        field, f"{field} must be at most {MAX_URL_LENGTH} characters long", code="too_long"
    )


def _has_bad_char(text: str) -> bool:
    if _BAD_ASCII.search(text):
        return True
    if text.isascii():
        return False
    return any(unicodedata.category(ch) in _BAD_CATEGORIES for ch in text if not ch.isascii())


def _split_authority(authority: str, field: str) -> tuple[str, str]:
    """Return (host, port) with the brackets kept on an IPv6 literal and '' for no port."""
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise _invalid(field, "has an invalid IPv6 address")
        host, after = authority[: close + 1], authority[close + 1 :]
        if after and not after.startswith(":"):
            raise _invalid(field, "has an invalid host")
        port = after[1:]
    else:
        host, _, port = authority.partition(":")
        if ":" in port:
            raise _invalid(field, "has an invalid host")
    if not host:
        raise _invalid(field, "has no host")
    if port:
        if not _PORT.fullmatch(port) or not 1 <= int(port) <= 65535:
            raise _invalid(field, "has an invalid port")
        port = str(int(port))
    return host, port


def _normalise_host(host: str, field: str) -> str:
    """Lower-case the host and give it in the ASCII form the browser will look up."""
    if host.startswith("["):
        literal = host[1:-1].lower()
        try:
            # A zone id ("%eth0") only means something on the machine that typed it.
            if "%" in literal:
                raise ValueError(literal)
            ipaddress.IPv6Address(literal)
        except ValueError:
            raise _invalid(field, "has an invalid IPv6 address") from None
        return f"[{literal}]"
    host = host.lower()
    if not host.isascii():
        if any(ch in _IDNA_DEVIATIONS for ch in host):
            raise _invalid(field, "has a host to give in its punycode (xn--) form")
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise _invalid(field, "has an invalid host name") from None
    # Checked after IDNA: nameprep maps the full-width solidus, commercial at and colon (U+FF0F,
    # U+FF20, U+FF1A) to their ASCII forms, which must not end up inside a host name.
    if len(host) > 254 or not _HOST.fullmatch(host):
        raise _invalid(field, "has an invalid host name")
    bare = host.rstrip(".")
    if _NUMERIC_LABEL.fullmatch(bare.rpartition(".")[2]):
        try:
            ipaddress.IPv4Address(bare)
        except ValueError:
            raise _invalid(field, "has an invalid IPv4 address") from None
    return host


def _host_allowed(host: str, allowed_hosts: Collection[str]) -> bool:
    """Whether `host` is one of `allowed_hosts` or a subdomain of one."""
    bare = host.rstrip(".").strip("[]")
    for entry in allowed_hosts:
        allowed = _normalise_allowed(entry)
        if allowed and (bare == allowed or bare.endswith("." + allowed)):
            return True
    return False


def _normalise_allowed(entry: str) -> str:
    allowed = entry.strip().lower().removeprefix("*.").strip(".").strip("[]")
    if not allowed.isascii():
        try:
            allowed = allowed.encode("idna").decode("ascii").lower()
        except UnicodeError:
            return ""
    return allowed


def _encode_non_ascii(text: str) -> str:
    if text.isascii():
        return text
    return _NON_ASCII.sub(lambda m: quote(m[0], safe=""), text)
