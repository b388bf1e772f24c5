"""Where a click goes: a link compiled once for the hot path, and the per-request decision.

Compiling merges the UTM tags into every destination up front, so a plain click costs a dict
lookup, a few comparisons and (optionally) one appended click token.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, unquote_plus

from firstmark.domain.links import Link
from firstmark.domain.rules import Rule, Visit, matches
from firstmark.domain.urls import append_param, split_fragment, with_params
from firstmark.domain.variants import bounds, pick, visitor_key


class Outcome(enum.Enum):
    REDIRECT = "redirect"
    PASSWORD = "password"
    NOT_YET = "not_yet"  # before valid_from: behaves as unknown
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    ARCHIVED = "archived"


@dataclass(frozen=True, slots=True)
class Destination:
    """A destination with the link's UTM tags merged in, split around its fragment."""

    base: str
    fragment: str
    own_params: frozenset[str] = frozenset()  # its query's names, casefolded

    @classmethod
    def of(cls, url: str, utm: Sequence[tuple[str, str]]) -> Destination:
        base, fragment = split_fragment(with_params(to_ascii(url), utm))
        query = base.partition("?")[2]
        names = frozenset(
            unquote_plus(piece.partition("=")[0]).casefold() for piece in query.split("&") if piece
        )
        return cls(base, fragment, names)


@dataclass(frozen=True, slots=True)
class Target:
    link: Link
    default: Destination
    rules: tuple[tuple[Rule, Destination], ...]
    valid_from: float | None
    expires_at: float | None
    needs_device: bool  # a rule looks at device or OS: parse the UA on the path
    protected_params: frozenset[str]  # forwarded query may not override these
    link_id: int
    id62: str  # the link id in base62, as click tokens carry it
    simple: bool  # no window, limit, password, rules or forwarded query: redirect at once
    # An A/B split: each variant's destination, the cumulative bounds of its weights
    # (domain/variants.py) and its click tokens' link part; all empty for a plain link.
    variants: tuple[Destination, ...] = ()
    bounds: tuple[int, ...] = ()
    variant_ids: tuple[str, ...] = ()


def to_ascii(url: str) -> str:
    """Percent-encode any non-ASCII character, so the URL fits a Location header as is."""
    if url.isascii():
        return url
    return "".join(c if c.isascii() else quote(c, safe="") for c in url)


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def compile_link(link: Link, token_param: str) -> Target:
    from firstmark.domain.clicks import b62, variant_prefix

    utm = link.utm_params()
    id62 = b62(link.id or 0)
    simple = not (
        link.archived
        or link.valid_from
        or link.expires_at
        or link.max_hits is not None
        or link.password_hash
        or link.rules
        or link.forward_query
    )
    return Target(
        link=link,
        default=Destination.of(link.destination, utm),
        rules=tuple((rule, Destination.of(rule.destination, utm)) for rule in link.rules),
        valid_from=_ts(link.valid_from),
        expires_at=_ts(link.expires_at),
        needs_device=any(rule.needs_device for rule in link.rules),
        # Casefolded: a visitor's UTM_SOURCE must not override the link's utm_source either.
        protected_params=frozenset(name.casefold() for name in {*(n for n, _ in utm), token_param}),
        link_id=link.id or 0,
        id62=id62,
        simple=simple,
        variants=tuple(Destination.of(v.url, utm) for v in link.variants),
        bounds=bounds([v.weight for v in link.variants]) if link.variants else (),
        variant_ids=tuple(variant_prefix(id62, n) for n in range(len(link.variants))),
    )


def split(target: Target, day_hash: str) -> int:
    """The variant of an A/B link a visitor (their daily hash) is sent to."""
    return pick(visitor_key(day_hash), target.link_id, target.bounds)


def outcome(target: Target, now: float, hits_so_far: int) -> Outcome:
    """Whether the link redirects now, before looking at who is asking."""
    link = target.link
    if link.archived:
        return Outcome.ARCHIVED
    if target.valid_from is not None and now < target.valid_from:
        return Outcome.NOT_YET
    if target.expires_at is not None and now >= target.expires_at:
        return Outcome.EXPIRED
    if link.max_hits is not None and hits_so_far >= link.max_hits:
        return Outcome.EXHAUSTED
    if link.password_hash is not None:
        return Outcome.PASSWORD
    return Outcome.REDIRECT


def choose(target: Target, visit: Visit | None) -> Destination:
    """The first matching rule's destination, else the link's own."""
    if visit is not None:
        for rule, destination in target.rules:
            if matches(rule, visit):
                return destination
    return target.default


def location(
    destination: Destination,
    forwarded: Sequence[tuple[str, str]] = (),
    token: tuple[str, str] | None = None,
) -> str:
    """The Location header: destination (+ forwarded query) (+ click token) + fragment."""
    url = destination.base
    if forwarded:
        url = with_params(url, forwarded)
    if token is not None:
        url = append_param(url, token[0], token[1])
    return url + destination.fragment


def forwardable(
    target: Target, query: Sequence[tuple[str, str]], destination: Destination | None = None
) -> list[tuple[str, str]]:
    """Incoming query parameters that may pass on: never a UTM tag or the click token, and
    never one the destination sets itself (its `account=` is the link's, not the visitor's).
    Names are compared casefolded."""
    own = (destination or target.default).own_params
    return [
        (k, v)
        for k, v in query
        if (name := k.casefold()) not in target.protected_params and name not in own
    ]
