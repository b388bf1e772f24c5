"""Destinations: one connection to an ad platform, and the outbox rows that feed it.

`parse` reads an API body strictly. Credentials stay clear only in memory: the web layer seals
them before the store sees them, and answers name only which fields are set. `outbox_targets`
is the one consent gate: which destinations get an outbox row for a new conversion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from firstmark.domain import oauth
from firstmark.domain.conversions import Conversion
from firstmark.domain.times import iso, iso_ts
from firstmark.errors import InvalidField

# Credential fields per platform: (required, optional).
CREDENTIALS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "meta": (("pixel_id", "access_token"), ()),
    "google_ads": (
        ("operating_account_id",),
        (
            "login_account_id",
            "developer_token",
            "service_account_key",
            "client_id",
            "client_secret",
            "refresh_token",
            "access_token",
        ),
    ),
    "ga4": (("measurement_id", "api_secret"), ()),
    "tiktok": (("pixel_code", "access_token"), ()),
    "linkedin": ((), ("client_id", "client_secret", "refresh_token", "access_token")),
    "microsoft": (("tag_id", "access_token"), ()),
    "pinterest": (("ad_account_id", "access_token"), ()),
    "snapchat": (("pixel_id", "access_token"), ()),
    "reddit": (("pixel_id", "access_token"), ()),
}
PLATFORMS = tuple(CREDENTIALS)
# How platforms with OAuth authenticate: one of these sets of credential fields must be
# complete (domain/oauth.py turns it into a grant). A bare access token never refreshes.
AUTH: dict[str, tuple[tuple[str, ...], ...]] = {
    "google_ads": (
        ("service_account_key",),
        ("client_id", "client_secret", "refresh_token"),
        ("access_token",),
    ),
    "linkedin": (("client_id", "client_secret", "refresh_token"), ("access_token",)),
}
# What the dashboard's Connect flow needs before it can send the browser to the platform.
CONNECTABLE = {
    "google_ads": ("client_id", "client_secret"),
    "linkedin": ("client_id", "client_secret"),
}
MAX_KEY = 8192  # a service-account JSON key is about 2.4 kB
# Options per platform, with the type each takes.
OPTIONS: dict[str, dict[str, type]] = {
    "meta": {
        "limited_data_use": bool, "ldu_country": int, "ldu_state": int,
        "test_event_code": str, "action_source": str,
    },
    "google_ads": {"api": str, "login_account_type": str},
    "ga4": {"ads_export": bool},
    "tiktok": {"test_event_code": str, "limited_data_use": bool},
    "linkedin": {},
    "microsoft": {},
    "pinterest": {"action_source": str},
    "snapchat": {"action_source": str},
    "reddit": {"test_id": str},
}  # fmt: skip
FIELDS = frozenset(
    {"platform", "name", "credentials", "goals", "endpoint_base", "test_mode", "options", "enabled"}
)
NAME = re.compile(r"[A-Za-z0-9 _.:-]{1,64}")
MAX_CREDENTIAL = 4096
MAX_EVENT_NAME = 128
MAX_GOALS = 200
STATUSES = ("pending", "sending", "sent", "retry", "dead")


@dataclass(frozen=True, slots=True)
class Destination:
    """A stored destination. `credentials_sealed` is opaque; `credential_fields` names what
    it holds."""

    platform: str
    name: str
    credentials_sealed: str
    credential_fields: tuple[str, ...]
    goals: Mapping[str, str] = field(default_factory=dict)
    endpoint_base: str | None = None
    test_mode: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    auth_status: str = "ok"  # ok | needs_reauth (the platform refused its credentials)
    auth_error: str | None = None


@dataclass(frozen=True, slots=True)
class DestinationInput:
    """A checked body: clear credentials, to be sealed by the caller."""

    platform: str
    name: str
    credentials: Mapping[str, str] | None  # None: unchanged (PATCH)
    goals: Mapping[str, str]
    endpoint_base: str | None
    test_mode: bool
    options: Mapping[str, Any]
    enabled: bool


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A claimed outbox row with what an adapter needs to send it."""

    id: int
    destination_id: int
    conversion: Conversion
    event_name: str
    attempts: int
    created_at: float
    click_ids: Mapping[str, str] = field(default_factory=dict)
    sealed_client: str | None = None


class OutboxTarget(NamedTuple):
    """An outbox row to write with a new conversion: where it goes, and as what event."""

    destination_id: int
    event_name: str  # the platform's event name (or conversion id) the goal maps to


def outbox_targets(
    conversion: Conversion, destinations: Iterable[Destination]
) -> list[OutboxTarget]:
    """The outbox rows of a new conversion, by destination id: one for each enabled
    destination that maps its goal, and none at all unless its consent allows forwarding
    (ad user data granted, no GPC)."""
    if not conversion.consent.forwarding:
        return []
    found = []
    for dest in destinations:
        event_name = dest.goals.get(conversion.goal) if dest.enabled else None
        if event_name and dest.id is not None:
            found.append(OutboxTarget(dest.id, event_name))
    return sorted(found)


@dataclass(frozen=True, slots=True)
class Audit:
    """What an attempt sent, for the forwarding audit: never a value, only names."""

    api_version: str | None = None
    consent: str | None = None  # the granted signals that allowed it: "ad_user_data,ad_storage"
    identifiers: tuple[str, ...] = ()  # names present: ("em", "fbc", "client_ip")
    request_id: str | None = None  # the platform's own id for the request


@dataclass(frozen=True, slots=True)
class Attempt:
    """The result of trying to deliver one outbox row."""

    outbox_id: int
    status: str  # sent | retry | dead
    next_attempt_at: float | None = None
    http_status: int | None = None
    error: str | None = None
    latency_ms: float | None = None
    audit: Audit | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One row of the delivery log."""

    id: int
    outbox_id: int
    destination_id: int
    ts: float
    status: str
    http_status: int | None
    latency_ms: float | None
    error: str | None
    event_id: str
    attempt: int  # 1 for the first attempt at this row
    api_version: str | None = None
    consent: str | None = None
    identifiers: tuple[str, ...] = ()
    request_id: str | None = None
    diagnostics: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An outbox row as the queue shows it: where it stands, never its client data."""

    id: int
    destination_id: int
    event_id: str
    event_name: str
    status: str
    attempts: int
    next_attempt_at: float
    last_status: int | None
    last_error: str | None
    created_at: float


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    """Which delivery log lines to list (all of them, newest first, by default)."""

    destination_id: int | None = None
    status: str | None = None  # sent | retry | dead
    since: float | None = None  # ts >= since
    until: float | None = None  # ts < until
    event_id: str | None = None
    before_id: int | None = None  # the page after the one ending at this id
    limit: int = 100


def _name(value: object) -> str:
    if not isinstance(value, str) or not NAME.fullmatch(value.strip()):
        raise InvalidField("name", "name must be 1-64 letters, digits, spaces or _ . : -")
    return value.strip()


def _platform(value: object) -> str:
    if value not in CREDENTIALS:
        raise InvalidField("platform", f"platform must be one of {', '.join(PLATFORMS)}")
    assert isinstance(value, str)
    return value


def _credentials(platform: str, value: object, current: Mapping[str, str]) -> dict[str, str]:
    """Given fields replace the current ones; null removes one. Required fields must end up
    set."""
    if not isinstance(value, Mapping):
        raise InvalidField("credentials", "credentials must be an object", code="invalid_type")
    required, optional = CREDENTIALS[platform]
    out = dict(current)
    for key, raw in value.items():
        name = f"credentials.{key}"
        if key not in required and key not in optional:
            raise InvalidField(
                name, f"{platform} takes credentials {', '.join(required + optional)}",
                code="unknown_field",
            )  # fmt: skip
        if raw is None:
            out.pop(key, None)
            continue
        limit = MAX_KEY if key == "service_account_key" else MAX_CREDENTIAL
        if not isinstance(raw, str) or not raw.strip() or len(raw) > limit:
            raise InvalidField(name, f"{name} must be a non-empty string")
        if key == "service_account_key":
            try:
                oauth.service_account(raw)
            except ValueError as exc:
                raise InvalidField(name, str(exc)) from None
        out[key] = raw.strip()
    for key in required:
        if key not in out:
            raise InvalidField(f"credentials.{key}", f"{platform} needs {key}", code="required")
    _check_auth(platform, out)
    return out


def auth_ready(platform: str, fields: Iterable[str]) -> bool:
    """Whether credentials with these fields can authenticate (not merely be connected)."""
    ways = AUTH.get(platform)
    names = set(fields)
    return ways is None or any(set(way) <= names for way in ways)


def auth_json(dest: Destination) -> dict[str, Any]:
    """How the destination authenticates and whether that still works."""
    names = {name: "set" for name in dest.credential_fields}
    return {
        "status": dest.auth_status,
        "error": dest.auth_error,
        "method": oauth.method(dest.platform, names),
        "connectable": dest.platform in CONNECTABLE,
    }


def _check_auth(platform: str, creds: Mapping[str, str]) -> None:
    """One way of authenticating must be complete; a Connect flow may come later (client id
    and secret without a refresh token yet)."""
    ways = AUTH.get(platform)
    if ways is None or any(all(creds.get(k) for k in way) for way in ways):
        return
    if all(creds.get(k) for k in CONNECTABLE.get(platform, ("-",))):
        return  # to be connected: the refresh token comes from the OAuth flow
    described = "; or ".join(" + ".join(way) for way in ways)
    raise InvalidField("credentials", f"{platform} needs {described}", code="required")


def _goals(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidField("goals", "goals must be an object", code="invalid_type")
    if len(value) > MAX_GOALS:
        raise InvalidField("goals", f"goals may map at most {MAX_GOALS} goals")
    out: dict[str, str] = {}
    for goal, event in value.items():
        if not isinstance(event, str) or not event.strip() or len(event) > MAX_EVENT_NAME:
            raise InvalidField(
                f"goals.{goal}", f"goals.{goal} must be a platform event name or conversion id"
            )
        out[goal] = event.strip()
    return out


def _endpoint(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidField("endpoint_base", "endpoint_base must be a URL", code="invalid_type")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise InvalidField("endpoint_base", "endpoint_base must be an http(s) URL without login")
    if parts.query or parts.fragment:
        raise InvalidField("endpoint_base", "endpoint_base must not have a query or fragment")
    return value.strip().rstrip("/")


def _options(platform: str, value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidField("options", "options must be an object", code="invalid_type")
    known = OPTIONS[platform]
    out: dict[str, Any] = {}
    for key, raw in value.items():
        if key not in known:
            names = ", ".join(known) or "none"
            raise InvalidField(
                f"options.{key}", f"{platform} options: {names}", code="unknown_field"
            )
        kind = known[key]
        if raw is None:
            continue
        if not isinstance(raw, kind) or (kind is int and isinstance(raw, bool)):
            raise InvalidField(f"options.{key}", f"options.{key} must be a {kind.__name__}")
        out[key] = raw
    if platform == "google_ads" and out.get("api", "data_manager") not in (
        "data_manager",
        "legacy",
    ):
        raise InvalidField("options.api", "options.api must be data_manager or legacy")
    return out


def _flag(data: Mapping[str, Any], name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise InvalidField(name, f"{name} must be true or false", code="invalid_type")
    return value


def parse(data: object, current: Destination | None = None, *,
          current_credentials: Mapping[str, str] | None = None) -> DestinationInput:  # fmt: skip
    """A new destination (current is None) or a change to one (PATCH: fields left out stay)."""
    if not isinstance(data, Mapping):
        raise InvalidField("body", "send one JSON object", code="invalid_type")
    unknown = set(data) - FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidField(name, f"unknown field {name!r}", code="unknown_field")
    if current is None:
        for needed in ("platform", "name", "credentials"):
            if data.get(needed) is None:
                raise InvalidField(needed, f"{needed} is required", code="required")
        platform = _platform(data["platform"])
    else:
        if "platform" in data and data["platform"] != current.platform:
            raise InvalidField("platform", "the platform of a destination cannot change")
        platform = current.platform
    kept_credentials = current_credentials or {}
    if current is not None and "endpoint_base" in data:
        if _endpoint(data["endpoint_base"]) != current.endpoint_base:
            # The credentials go wherever the endpoint points: a new endpoint gets them only
            # when they are given again, in full, with it.
            if "credentials" not in data:
                raise InvalidField(
                    "credentials",
                    "changing endpoint_base needs the credentials again",
                    code="required",
                )
            kept_credentials = {}
    return DestinationInput(
        platform=platform,
        name=_name(data["name"]) if "name" in data else current.name if current else "",
        credentials=_credentials(platform, data["credentials"], kept_credentials)
        if "credentials" in data
        else None,
        goals=_goals(data["goals"]) if "goals" in data else dict(current.goals) if current else {},
        endpoint_base=_endpoint(data.get("endpoint_base"))
        if "endpoint_base" in data or current is None
        else current.endpoint_base
        if current
        else None,
        test_mode=_flag(data, "test_mode", current.test_mode if current else False),
        options=_options(platform, data["options"])
        if "options" in data
        else dict(current.options)
        if current
        else {},
        enabled=_flag(data, "enabled", current.enabled if current else True),
    )


def build(
    checked: DestinationInput, sealed: str | None, current: Destination | None = None
) -> Destination:
    """The destination to store; `sealed` holds the sealed credentials, None to keep the
    current ones."""
    if sealed is None or checked.credentials is None:
        assert current is not None, "a new destination needs credentials"
        sealed, fields = current.credentials_sealed, current.credential_fields
    else:
        fields = tuple(sorted(checked.credentials))
    return Destination(
        platform=checked.platform,
        name=checked.name,
        credentials_sealed=sealed,
        credential_fields=fields,
        goals=dict(checked.goals),
        endpoint_base=checked.endpoint_base,
        test_mode=checked.test_mode,
        options=dict(checked.options),
        enabled=checked.enabled,
        id=current.id if current else None,
        created_at=current.created_at if current else None,
    )


def to_json(dest: Destination, counts: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Never the credentials: only which fields are set."""
    body: dict[str, Any] = {
        "id": dest.id,
        "platform": dest.platform,
        "name": dest.name,
        "credentials": {name: "set" for name in dest.credential_fields},
        "goals": dict(dest.goals),
        "endpoint_base": dest.endpoint_base,
        "test_mode": dest.test_mode,
        "options": dict(dest.options),
        "enabled": dest.enabled,
        "auth": auth_json(dest),
        "created_at": iso(dest.created_at),
        "updated_at": iso(dest.updated_at),
    }
    if counts is not None:
        body["outbox"] = {status: counts.get(status, 0) for status in STATUSES}
    return body


def outbox_row_json(row: OutboxRow) -> dict[str, Any]:
    def when(ts: float) -> str | None:
        return iso_ts(ts)

    return {
        "id": row.id,
        "destination_id": row.destination_id,
        "event_id": row.event_id,
        "event_name": row.event_name,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": when(row.next_attempt_at),
        "last_status": row.last_status,
        "last_error": row.last_error,
        "created_at": when(row.created_at),
    }


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "outbox_id": delivery.outbox_id,
        "event_id": delivery.event_id,
        "ts": iso_ts(delivery.ts),
        "status": delivery.status,
        "http_status": delivery.http_status,
        "latency_ms": None if delivery.latency_ms is None else round(delivery.latency_ms, 1),
        "error": delivery.error,
        "attempt": delivery.attempt,
        "destination_id": delivery.destination_id,
        "api_version": delivery.api_version,
        "consent": delivery.consent,
        "identifiers": list(delivery.identifiers),
        "request_id": delivery.request_id,
        "diagnostics": delivery.diagnostics,
    }
