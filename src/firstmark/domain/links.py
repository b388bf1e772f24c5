"""Short links: the model, codes, and the rules for reading a link from user input.

Input arrives as flat JSON keys (the API body, or the CLI's options turned into the same keys);
`parse_fields` checks every key and value and names the field when one is wrong.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from firstmark.domain.rules import Rule, parse_rules, rules_to_json
from firstmark.domain.times import iso, parse_time
from firstmark.domain.urls import validate_destination
from firstmark.domain.utm import UTM_FIELDS, Taxonomy, UtmWarning, normalise_utm, taxonomy_warnings
from firstmark.domain.variants import Variant, parse_variants, variants_to_json
from firstmark.errors import InvalidField

BASE62 = string.digits + string.ascii_letters
CODE_LENGTH = 7
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
HOST_PATTERN = re.compile(
    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)
REDIRECT_STATUSES = (301, 302, 307, 308)

# Paths the server answers itself; a short code may not shadow them (compared case-insensitively).
RESERVED_CODES = frozenset(
    {
        "api", "q", "e", "n", "fm.js", "fm-phone.js", "dashboard", "static", "healthz",
        "readyz", "metrics", "hooks", "login", "logout", "admin", "favicon.ico", "robots.txt",
        "assets", "docs", "openapi.json", "well-known", ".well-known", "sitemap.xml", "humans.txt",
    }
)  # fmt: skip

TEXT_LIMITS = {"campaign": 200, "placement": 200, "tag": 64}
MAX_TAGS = 20
MAX_UTM_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Link:
    destination: str
    code: str
    domain: str = ""
    id: int | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    utm_id: str | None = None
    campaign: str | None = None
    tags: tuple[str, ...] = ()
    kind: str = "link"
    placement: str | None = None
    redirect_status: int = 302
    forward_query: bool = False
    click_token: bool = True
    valid_from: datetime | None = None
    expires_at: datetime | None = None
    max_hits: int | None = None
    fallback_url: str | None = None
    password_hash: str | None = None
    rules: tuple[Rule, ...] = ()
    noindex: bool = True
    variants: tuple[Variant, ...] = ()  # an A/B split; variant 0 is `destination` itself
    archived: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1

    def utm_params(self) -> list[tuple[str, str]]:
        """The link's UTM tags in their canonical order, as query parameters."""
        out: list[tuple[str, str]] = []
        for name in UTM_FIELDS:
            value = getattr(self, name)
            if value:
                out.append((name, value))
        return out


@dataclass(frozen=True)
class LinkPolicy:
    """What the operator configured that shapes new links."""

    default_host: str = ""
    taxonomy: Taxonomy | None = None
    allowed_hosts: Collection[str] = ()


@dataclass(frozen=True)
class Prepared:
    """A link ready to store, with the warnings to show the user (never errors)."""

    link: Link
    warnings: list[UtmWarning] = field(default_factory=list)
    code_given: bool = True
    # A new password, checked but not hashed: scrypt is CPU work for the caller to run off
    # the event loop (services/links.py), which then sets `link.password_hash`.
    password: str | None = None


def generate_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def is_reserved(code: str) -> bool:
    return code.lower() in RESERVED_CODES


def validate_code(value: object, field_name: str = "code") -> str:
    if not isinstance(value, str):
        raise InvalidField(field_name, "code must be a string", code="invalid_type")
    if is_reserved(value):
        raise InvalidField(field_name, f"{value!r} is a reserved word", code="reserved_code")
    if not CODE_PATTERN.fullmatch(value):
        raise InvalidField(
            field_name,
            "code must be 1 to 64 characters of letters, digits, '_' or '-'",
            code="invalid_code",
        )
    return value


def normalise_host(value: object, field_name: str = "domain") -> str:
    """A bare host name, lower case, no port: the key links are served under."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidField(field_name, "domain must be a string", code="invalid_type")
    host = value.strip().lower().rstrip(".")
    if not host:
        return ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidField(field_name, "domain is not a valid host name") from None
    if not HOST_PATTERN.fullmatch(host):
        raise InvalidField(field_name, "domain must be a host name like go.example.com")
    return host


# --- reading fields -------------------------------------------------------------------------

FIELDS = frozenset(
    {
        "destination", "code", "domain", *UTM_FIELDS, "campaign", "tags", "kind", "placement",
        "redirect_status", "forward_query", "click_token", "valid_from", "expires_at",
        "fallback_url", "max_hits", "password", "rules", "noindex", "variants",
    }
)  # fmt: skip
# Read-only keys a client may echo back from a GET; they are ignored rather than refused.
READ_ONLY = frozenset(
    {"id", "short_url", "qr_url", "has_password", "archived", "created_at", "updated_at", "version"}
)


def _text(name: str, value: object, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(name, f"{name} must be a string", code="invalid_type")
    value = value.strip()
    if len(value) > limit:
        raise InvalidField(name, f"{name} must be at most {limit} characters", code="too_long")
    if any(ord(c) < 32 for c in value):
        raise InvalidField(name, f"{name} must not contain control characters")
    return value or None


def _bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidField(name, f"{name} must be true or false", code="invalid_type")
    return value


def _tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InvalidField("tags", "tags must be a list of strings", code="invalid_type")
    tags: list[str] = []
    for raw in value:
        tag = raw.strip().lower()
        if not tag:
            continue
        if len(tag) > TEXT_LIMITS["tag"] or any(ord(c) < 32 for c in tag):
            raise InvalidField("tags", f"tag {raw!r} must be 1 to 64 printable characters")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidField("tags", f"at most {MAX_TAGS} tags per link")
    return tuple(tags)


def parse_fields(data: object, policy: LinkPolicy) -> tuple[dict[str, Any], dict[str, str]]:
    """Check every key of a link body: (checked values, UTM values as typed), given keys only."""
    if not isinstance(data, Mapping):
        raise InvalidField("body", "the body must be a JSON object", code="invalid_type")
    values: dict[str, Any] = {}
    raw_utm: dict[str, str] = {}
    for key, value in data.items():
        if key in READ_ONLY:
            continue
        if key not in FIELDS:
            raise InvalidField(str(key), f"unknown field {key!r}", code="unknown_field")
        if key == "destination":
            if value is None:
                raise InvalidField(key, "destination is required", code="required")
            values[key] = validate_destination(value, key, allowed_hosts=policy.allowed_hosts)
        elif key == "fallback_url":
            values[key] = (
                None
                if value is None
                else validate_destination(value, key, allowed_hosts=policy.allowed_hosts)
            )
        elif key == "code":
            values[key] = None if value is None else validate_code(value)
        elif key == "domain":
            host = normalise_host(value)
            values[key] = "" if host == policy.default_host else host
        elif key in UTM_FIELDS:
            text = _text(key, value, MAX_UTM_LENGTH)
            if text is not None:
                raw_utm[key] = text
            values[key] = normalise_utm(text) if text is not None else None
        elif key in ("campaign", "placement"):
            values[key] = _text(key, value, TEXT_LIMITS[key])
        elif key == "tags":
            values[key] = _tags(value)
        elif key == "kind":
            if value not in ("link", "qr"):
                raise InvalidField(key, "kind must be 'link' or 'qr'")
            values[key] = value
        elif key == "redirect_status":
            if isinstance(value, bool) or value not in REDIRECT_STATUSES:
                raise InvalidField(key, "redirect_status must be one of 301, 302, 307, 308")
            values[key] = value
        elif key in ("forward_query", "click_token", "noindex"):
            values[key] = _bool(key, value)
        elif key in ("valid_from", "expires_at"):
            values[key] = parse_time(key, value)
        elif key == "max_hits":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidField(key, "max_hits must be a whole number", code="invalid_type")
            if value is not None and value < 1:
                raise InvalidField(key, "max_hits must be at least 1")
            values[key] = value
        elif key == "password":
            values["password"] = _password(value)
        elif key == "rules":
            values[key] = parse_rules(value, allowed_hosts=policy.allowed_hosts)
        elif key == "variants":
            values[key] = parse_variants(value, allowed_hosts=policy.allowed_hosts)
    return values, raw_utm


def _settle_variants(values: dict[str, Any], current: Link | None = None) -> None:
    """Keep variant 0 and the destination one URL: a new split sets the destination (they
    must agree when both are given); a new destination on a split link moves the control."""
    split = values.get("variants")
    if split:
        given = values.get("destination")
        if given is not None and given != split[0].url:
            raise InvalidField(
                "variants", "the first variant is the control: its url must be the destination"
            )
        values["destination"] = split[0].url
    elif "variants" not in values and "destination" in values and current and current.variants:
        control = replace(current.variants[0], url=values["destination"])
        values["variants"] = (control, *current.variants[1:])


def _password(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidField("password", "password must be a string", code="invalid_type")
    if len(value) > 256:
        raise InvalidField("password", "password must be at most 256 characters", code="too_long")
    return value


def _check_window(link: Link) -> None:
    if link.valid_from and link.expires_at and link.expires_at <= link.valid_from:
        raise InvalidField("expires_at", "expires_at must be later than valid_from")


def new_link(
    data: object,
    policy: LinkPolicy,
    now: datetime,
    in_use: Mapping[str, Collection[str]] | None = None,
) -> Prepared:
    """A link from a create request. A missing code is generated (the store checks collisions)."""
    values, raw_utm = parse_fields(data, policy)
    _settle_variants(values)
    if "destination" not in values:
        raise InvalidField("destination", "destination is required", code="required")
    code = values.pop("code", None)
    password = values.pop("password", None)
    link = Link(
        code=code or generate_code(),
        **{k: v for k, v in values.items() if v is not None},
        created_at=now,
        updated_at=now,
    )
    _check_window(link)
    warnings = _warnings(raw_utm, policy, in_use)
    return Prepared(link=link, warnings=warnings, code_given=code is not None, password=password)


def apply_patch(
    link: Link,
    data: object,
    policy: LinkPolicy,
    now: datetime,
    in_use: Mapping[str, Collection[str]] | None = None,
) -> Prepared:
    """A link changed by a PATCH body: only the given keys change; null clears optional ones."""
    values, raw_utm = parse_fields(data, policy)
    archived = _archived(data)
    if "code" in values and values["code"] is None:
        raise InvalidField("code", "code cannot be removed", code="required")
    password = values.pop("password", None)
    if password is None and "password" in (data if isinstance(data, Mapping) else ()):
        values["password_hash"] = None  # null or "" removes the password
    for key, default in (
        ("tags", ()),
        ("rules", ()),
        ("redirect_status", 302),
        ("forward_query", False),
        ("click_token", True),
        ("noindex", True),
        ("kind", "link"),
        ("variants", ()),
    ):
        if key in values and values[key] is None:
            values[key] = default
    _settle_variants(values, link)
    changed = replace(link, **values, updated_at=now, version=link.version + 1)
    if archived is not None:
        changed = replace(changed, archived=archived)
    _check_window(changed)
    return Prepared(link=changed, warnings=_warnings(raw_utm, policy, in_use), password=password)


def _archived(data: object) -> bool | None:
    """`archived` in a PATCH archives (true) or restores (false) the link; absent, None. On
    create it stays read-only: a new link is never born archived."""
    if not isinstance(data, Mapping) or "archived" not in data:
        return None
    return _bool("archived", data["archived"])


def _warnings(
    raw_utm: Mapping[str, str], policy: LinkPolicy, in_use: Mapping[str, Collection[str]] | None
) -> list[UtmWarning]:
    if not raw_utm or policy.taxonomy is None:
        return []
    return taxonomy_warnings(raw_utm, policy.taxonomy, in_use)


def short_url(link: Link, base_url: str, *, scan: bool = False) -> str:
    """The URL people share: the link's own domain when it has one, else BASE_URL."""
    base = base_url.rstrip("/")
    if link.domain:
        scheme = base.split("://", 1)[0]
        base = f"{scheme}://{link.domain}"
    return f"{base}/q/{link.code}" if scan else f"{base}/{link.code}"


def to_json(link: Link, base_url: str) -> dict[str, Any]:
    return {
        "id": link.id,
        "code": link.code,
        "domain": link.domain or None,
        "short_url": short_url(link, base_url),
        "qr_url": short_url(link, base_url, scan=True),
        "destination": link.destination,
        **{name: getattr(link, name) for name in UTM_FIELDS},
        "campaign": link.campaign,
        "tags": list(link.tags),
        "kind": link.kind,
        "placement": link.placement,
        "redirect_status": link.redirect_status,
        "forward_query": link.forward_query,
        "click_token": link.click_token,
        "valid_from": iso(link.valid_from),
        "expires_at": iso(link.expires_at),
        "max_hits": link.max_hits,
        "fallback_url": link.fallback_url,
        "has_password": link.password_hash is not None,
        "rules": rules_to_json(link.rules),
        "noindex": link.noindex,
        "variants": variants_to_json(link.variants),
        "archived": link.archived,
        "created_at": iso(link.created_at),
        "updated_at": iso(link.updated_at),
        "version": link.version,
    }
