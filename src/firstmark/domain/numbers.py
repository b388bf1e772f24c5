"""Tracking numbers and DNI pools: what a marketer registers, checked.

A number is either *static* (printed on a poster, a stand, an ad: bound to a link, a QR
placement's link or a campaign name, or to nothing) or belongs to a *pool* whose numbers the
tracking script swaps into a web page per visitor session (dynamic number insertion).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from firstmark.domain.goals import name as goal_name
from firstmark.domain.phones import display, parse_e164
from firstmark.domain.times import iso_ts
from firstmark.errors import InvalidField

PROVIDERS = ("twilio", "vonage", "telnyx")
DEFAULT_QUALIFY_S = 60
MAX_QUALIFY_S = 24 * 3600
DEFAULT_LEASE_S = 30 * 60
POOL_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_PART = re.compile(
    r"(?P<first>mon|tue|wed|thu|fri|sat|sun)(?:-(?P<last>mon|tue|wed|thu|fri|sat|sun))?"
    r"\s+(?P<start>\d\d):(?P<start_m>\d\d)-(?P<end>\d\d):(?P<end_m>\d\d)"
)
FIELDS = frozenset(
    {
        "number", "region", "provider", "forward_to", "label", "pool", "link_id", "campaign",
        "qualify_seconds", "record", "fallback_to", "hours", "timezone", "goal",
    }
)  # fmt: skip
CHANGEABLE = FIELDS - {"number", "provider", "region"}


@dataclass(frozen=True)
class TrackingNumber:
    e164: str
    provider: str
    forward_to: str
    label: str = ""
    pool: str | None = None  # a DNI pool; None for a static number
    link_id: int | None = None  # static binding: a link (or a QR placement's link)
    campaign: str | None = None  # static binding by campaign name (utm_campaign)
    qualify_s: int = DEFAULT_QUALIFY_S  # a call this long (talk time) becomes a conversion
    record: bool = False  # recordings only when switched on, and then a notice is played
    fallback_to: str | None = None  # where calls go outside business hours
    hours: str | None = None  # "mon-fri 09:00-17:00, sat 10:00-14:00"
    timezone: str = "UTC"
    goal: str | None = None  # the goal a qualified call reaches; None: the goal "call"
    released_at: float | None = None
    created_at: float | None = None
    id: int | None = None

    @property
    def static(self) -> bool:
        return self.pool is None

    @property
    def goal_name(self) -> str:
        return self.goal or "call"

    def destination(self, ts: float) -> str:
        """Where a call at `ts` is forwarded: the fallback outside business hours."""
        if self.fallback_to and self.hours and not in_hours(self.hours, self.timezone, ts):
            return self.fallback_to
        return self.forward_to


@dataclass(frozen=True)
class Pool:
    """A DNI pool: its numbers are leased to visitor sessions; when all are taken the page
    shows `fallback` (a number of the business, or a static tracking number)."""

    name: str
    fallback: str | None = None
    site_id: int | None = None  # the site whose pages use this pool by default
    lease_s: int = DEFAULT_LEASE_S
    created_at: float | None = None


def parse_hours(value: object, field: str = "hours") -> str | None:
    """`mon-fri 09:00-17:00, sat 10:00-14:00`: checked and tidied, or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise InvalidField(field, f"{field} must be text like 'mon-fri 09:00-17:00'")
    parts = [p.strip().lower() for p in value.split(",") if p.strip()]
    for part in parts:
        m = HOURS_PART.fullmatch(part)
        if m is None:
            raise InvalidField(field, f"{field}: {part!r} is not like 'mon-fri 09:00-17:00'")
        start = int(m["start"]) * 60 + int(m["start_m"])
        end = int(m["end"]) * 60 + int(m["end_m"])
        if int(m["start_m"]) > 59 or int(m["end_m"]) > 59 or not 0 <= start < end <= 24 * 60:
            raise InvalidField(field, f"{field}: {part!r} must open before it closes")
    return ", ".join(parts)


def in_hours(hours: str, timezone: str, ts: float) -> bool:
    """Whether `ts` falls inside the opening hours, in the number's time zone."""
    local = datetime.fromtimestamp(ts, UTC).astimezone(ZoneInfo(timezone))
    day = local.weekday()
    minute = local.hour * 60 + local.minute
    for part in hours.split(","):
        m = HOURS_PART.fullmatch(part.strip())
        if m is None:
            continue
        first = DAYS.index(m["first"])
        last = DAYS.index(m["last"]) if m["last"] else first
        days = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        start = int(m["start"]) * 60 + int(m["start_m"])
        end = int(m["end"]) * 60 + int(m["end_m"])
        if day in days and start <= minute < end:
            return True
    return False


def _timezone(value: object) -> str:
    if value is None:
        return "UTC"
    if not isinstance(value, str) or not value or len(value) > 64:
        raise InvalidField("timezone", "timezone must be an IANA name like Europe/Oslo")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidField("timezone", f"unknown time zone {value!r}") from None
    return value


def pool_name(value: object, field: str = "pool") -> str:
    if not isinstance(value, str) or not POOL_NAME.fullmatch(value):
        raise InvalidField(
            field, f"{field} must be 1-64 lowercase letters, digits, _ or -, like 'website'"
        )
    return value


def _label(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 200:
        raise InvalidField("label", "label must be text of at most 200 characters")
    return value.strip()


def _qualify(value: object) -> int:
    if value is None:
        return DEFAULT_QUALIFY_S
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUALIFY_S:
        raise InvalidField(
            "qualify_seconds", f"qualify_seconds must be a whole number 0-{MAX_QUALIFY_S}"
        )
    return value


def _flag(value: object, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidField(field, f"{field} must be true or false", code="invalid_type")
    return value


def _campaign(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise InvalidField("campaign", "campaign must be text of at most 200 characters")
    return value.strip()


def _link_id(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidField("link_id", "link_id must be the id of a link", code="invalid_type")
    return value


def _check(number: TrackingNumber) -> TrackingNumber:
    """The rules that span fields."""
    if number.forward_to == number.e164:
        raise InvalidField("forward_to", "forward_to must not be the tracking number (a loop)")
    if number.fallback_to == number.e164:
        raise InvalidField("fallback_to", "fallback_to must not be the tracking number (a loop)")
    if number.pool is not None and (number.link_id is not None or number.campaign is not None):
        raise InvalidField("pool", "a number is either in a pool or bound to a link/campaign")
    if number.fallback_to and not number.hours:
        raise InvalidField("hours", "fallback_to needs business hours to fall back outside of")
    return number


def parse_new(data: object, now: float) -> TrackingNumber:
    """A number as registered by the API or CLI."""
    if not isinstance(data, Mapping):
        raise InvalidField("body", "a number must be a JSON object", code="invalid_type")
    unknown = set(data) - FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidField(name, f"unknown field {name!r}", code="unknown_field")
    for required in ("number", "provider", "forward_to"):
        if data.get(required) is None:
            raise InvalidField(required, f"{required} is required", code="required")
    region = data.get("region")
    if region is not None and (
        not isinstance(region, str) or not re.fullmatch(r"[A-Za-z]{2}", region)
    ):
        raise InvalidField("region", "region must be a two-letter country code like GB")
    provider = data["provider"]
    if provider not in PROVIDERS:
        raise InvalidField(
            "provider", f"provider must be one of {', '.join(PROVIDERS)}", code="unknown_provider"
        )
    base = TrackingNumber(
        e164=parse_e164(data["number"], "number", region),
        provider=provider,
        forward_to=parse_e164(data["forward_to"], "forward_to", region),
        created_at=now,
    )
    return _check(_apply(base, data, region))


def parse_changes(current: TrackingNumber, data: object) -> TrackingNumber:
    """A PATCH: only the fields given change; the number and provider stay."""
    if not isinstance(data, Mapping):
        raise InvalidField(
            "body", "send a JSON object of the fields to change", code="invalid_type"
        )
    for name in sorted(set(data) - CHANGEABLE):
        code = "unknown_field" if name not in FIELDS else "read_only"
        raise InvalidField(name, f"{name} cannot be changed here", code=code)
    return _check(_apply(current, data, None, partial=True))


def _apply(
    base: TrackingNumber, data: Mapping[str, Any], region: str | None, *, partial: bool = False
) -> TrackingNumber:
    changes: dict[str, Any] = {}

    def given(name: str) -> bool:
        return name in data if partial else True

    if given("forward_to") and "forward_to" in data:
        changes["forward_to"] = parse_e164(data["forward_to"], "forward_to", region)
    if given("label"):
        changes["label"] = _label(data.get("label"))
    if given("pool"):
        raw = data.get("pool")
        changes["pool"] = None if raw is None else pool_name(raw)
    if given("link_id"):
        changes["link_id"] = _link_id(data.get("link_id"))
    if given("campaign"):
        changes["campaign"] = _campaign(data.get("campaign"))
    if given("qualify_seconds"):
        changes["qualify_s"] = _qualify(data.get("qualify_seconds"))
    if given("record"):
        changes["record"] = _flag(data.get("record"), "record")
    if given("fallback_to"):
        raw = data.get("fallback_to")
        changes["fallback_to"] = None if raw is None else parse_e164(raw, "fallback_to", region)
    if given("hours"):
        changes["hours"] = parse_hours(data.get("hours"))
    if given("timezone"):
        changes["timezone"] = _timezone(data.get("timezone"))
    if given("goal"):
        raw = data.get("goal")
        changes["goal"] = None if raw is None else goal_name(raw, "goal")
    return replace(base, **changes)


def parse_pool(name: object, data: object, now: float) -> Pool:
    """`PUT /api/v1/pools/{name}`: `{"fallback": "+1…", "site": "key", "lease_minutes": 30}`;
    `site` is resolved to an id by the caller (here it is left as None)."""
    checked = pool_name(name, "name")
    if not isinstance(data, Mapping):
        raise InvalidField("body", "a pool must be a JSON object", code="invalid_type")
    unknown = set(data) - {"fallback", "region", "site", "lease_minutes"}
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidField(field, f"unknown field {field!r}", code="unknown_field")
    region = data.get("region") if isinstance(data.get("region"), str) else None
    raw = data.get("fallback")
    fallback = None if raw is None else parse_e164(raw, "fallback", region)
    minutes = data.get("lease_minutes", DEFAULT_LEASE_S // 60)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 5 <= minutes <= 24 * 60:
        raise InvalidField("lease_minutes", "lease_minutes must be a whole number 5-1440")
    return Pool(name=checked, fallback=fallback, lease_s=minutes * 60, created_at=now)


def to_json(number: TrackingNumber) -> dict[str, Any]:
    return {
        "id": number.id,
        "number": number.e164,
        "display": display(number.e164),
        "provider": number.provider,
        "forward_to": number.forward_to,
        "label": number.label,
        "kind": "static" if number.static else "pool",
        "pool": number.pool,
        "link_id": number.link_id,
        "campaign": number.campaign,
        "qualify_seconds": number.qualify_s,
        "record": number.record,
        "fallback_to": number.fallback_to,
        "hours": number.hours,
        "timezone": number.timezone,
        "goal": number.goal_name,
        "released": number.released_at is not None,
        "created_at": _iso(number.created_at),
        "released_at": _iso(number.released_at),
    }


def pool_to_json(pool: Pool, numbers: int, leased: int) -> dict[str, Any]:
    return {
        "name": pool.name,
        "fallback": pool.fallback,
        "site_id": pool.site_id,
        "lease_minutes": pool.lease_s // 60,
        "numbers": numbers,
        "leased": leased,
    }


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return iso_ts(ts)
