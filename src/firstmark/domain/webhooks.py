"""Outgoing webhooks: the event types, endpoint input, secrets and signatures, per the
Standard Webhooks specification (standardwebhooks.com).

A message is signed as `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`
with the endpoint's secret (`whsec_` + base64 of 24 random bytes). While a rotated secret is
still in its overlap window, the `webhook-signature` header carries both signatures, space
separated, so a receiver holding either secret verifies. Pure: no IO; the clock is passed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from firstmark.domain.calls import Call
from firstmark.domain.conversions import Conversion
from firstmark.domain.links import Link
from firstmark.domain.times import iso_ts as iso
from firstmark.domain.utm import UTM_FIELDS
from firstmark.errors import InvalidField

EVENTS = (
    "link.clicked",
    "qr.scanned",
    "conversion.created",
    "call.completed",
    "call.qualified",
    "lead.created",
    "link.created",
    "link.updated",
    "link.archived",
    "destination.needs_reauth",
    "alert.raised",
    "report.summary",
)
# The events about one conversion, queued under its event id (`conversion_message_ids`).
CONVERSION_EVENTS = ("conversion.created", "lead.created")
TEST_EVENT = "webhook.test"  # sent by "send test event" whatever the endpoint subscribes to
CLICK_MODES = ("aggregate", "sample")  # link.clicked / qr.scanned: per-minute counts or 1 in N
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
ROTATION_OVERLAP_S = 24 * 3600.0  # the old secret still signs for a day after a rotation
MAX_URL = 2048
MAX_EVENTS = len(EVENTS)
MAX_DESCRIPTION = 200
MAX_SAMPLE_EVERY = 1_000_000
HASHED = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A subscriber. `secrets_sealed` holds the current secret and, during an overlap, the
    previous one (`previous_until` is when the previous stops signing)."""

    url: str
    events: tuple[str, ...]
    secrets_sealed: str = ""
    description: str = ""
    click_mode: str = "aggregate"
    sample_every: int = 100  # in sample mode: one click (or scan) in this many is sent
    enabled: bool = True
    previous_until: float | None = None
    id: int | None = None
    created_at: int = 0
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class EndpointInput:
    """What a create or an update asked for, checked."""

    url: str
    events: tuple[str, ...]
    description: str
    click_mode: str
    sample_every: int
    enabled: bool


@dataclass(frozen=True, slots=True)
class Message:
    """One event for one endpoint, as queued: its id is the `webhook-id` of every attempt."""

    endpoint_id: int
    msg_id: str
    event_type: str
    body: str  # the exact JSON bytes signed and sent


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    id: int
    endpoint_id: int
    msg_id: str
    event_type: str
    body: str
    attempts: int


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    id: int
    outbox_id: int
    endpoint_id: int
    msg_id: str
    event_type: str
    ts: float
    status: str
    attempt: int
    http_status: int | None
    latency_ms: float | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Sealed:
    """The endpoint's secrets as they are sealed at rest."""

    current: str
    previous: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"current": self.current, "previous": self.previous}


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id(endpoint_id: int, event_type: str, key: str | None = None) -> str:
    """A random id, or one derived from `key` (what makes the event itself unique, e.g. a
    conversion's event_id): the same event queued twice gets one id and is queued once."""
    if key is None:
        return "msg_" + secrets.token_urlsafe(18)
    digest = hashlib.sha256(f"{endpoint_id}\x00{event_type}\x00{key}".encode()).digest()
    return "msg_" + base64.urlsafe_b64encode(digest[:18]).decode()


def conversion_message_ids(endpoint_ids: Sequence[int], event_ids: Sequence[str]) -> list[str]:
    """The ids the messages about these conversions were queued under, for every endpoint
    and conversion event: erasure finds them by the unique id, without reading any body."""
    return [
        new_message_id(ep, event_type, event_id)
        for ep in endpoint_ids
        for event_type in CONVERSION_EVENTS
        for event_id in event_ids
    ]


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret (the base64 after the prefix)."""
    raw = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def signature(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 HMAC-SHA256>` of `{msg_id}.{timestamp}.{body}`."""
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signing_secrets(sealed: Sealed, previous_until: float | None, now: float) -> list[str]:
    """The secrets that sign now: the current one, and the previous while it overlaps."""
    out = [sealed.current]
    if sealed.previous and previous_until is not None and now < previous_until:
        out.append(sealed.previous)
    return out


def headers(msg_id: str, body: str, keys: Sequence[str], now: float) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (a retry: same id, a new timestamp)."""
    ts = int(now)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": " ".join(signature(k, msg_id, ts, body) for k in keys),
    }


def envelope(event_type: str, data: Mapping[str, Any], now: float) -> str:
    """The body: `{"type", "timestamp", "data"}`, compact JSON (the bytes that are signed)."""
    return json.dumps(
        {"type": event_type, "timestamp": iso(now), "data": dict(data)},
        separators=(",", ":"),
        ensure_ascii=False,
        sort_keys=True,
    )


def wants(endpoint: Endpoint, event_type: str) -> bool:
    return endpoint.enabled and (event_type == TEST_EVENT or event_type in endpoint.events)


# --- input --------------------------------------------------------------------------------


def _url(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidField("url", "url must be an http(s) URL", code="invalid_type")
    text = value.strip()
    if len(text) > MAX_URL:
        raise InvalidField("url", f"url must be at most {MAX_URL} characters", code="too_long")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in text):
        raise InvalidField("url", "url must not contain spaces or control characters")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        raise InvalidField("url", "url is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidField("url", "url must be an http(s) URL", code="unsafe_scheme")
    if parts.username or parts.password:
        raise InvalidField("url", "url must not carry a login")
    if parts.fragment:
        raise InvalidField("url", "url must not have a fragment")
    return text


def _events(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise InvalidField("events", "events must be a non-empty list of event types")
    out: list[str] = []
    for i, name in enumerate(value):
        if not isinstance(name, str) or name not in EVENTS:
            raise InvalidField(
                f"events[{i}]", f"events must be among {', '.join(EVENTS)}", code="unknown_event"
            )
        if name not in out:
            out.append(name)
    return tuple(out)


def _flag(data: Mapping[str, Any], name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise InvalidField(name, f"{name} must be true or false", code="invalid_type")
    return value


def parse(data: object, current: Endpoint | None = None) -> EndpointInput:
    """A create (`current` None: url and events required) or a partial update."""
    if not isinstance(data, Mapping):
        raise InvalidField("body", "the body must be a JSON object", code="invalid_type")
    known = {"url", "events", "description", "click_mode", "sample_every", "enabled"}
    for key in data:
        if key not in known:
            raise InvalidField(str(key), f"unknown field {key!r}", code="unknown_field")
    if current is None:
        for name in ("url", "events"):
            if name not in data:
                raise InvalidField(name, f"{name} is required", code="required")
    url = _url(data["url"]) if "url" in data else (current.url if current else "")
    events = _events(data["events"]) if "events" in data else (current.events if current else ())
    description = data.get("description", current.description if current else "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise InvalidField("description", f"description: text of at most {MAX_DESCRIPTION}")
    mode = data.get("click_mode", current.click_mode if current else "aggregate")
    if mode not in CLICK_MODES:
        raise InvalidField("click_mode", f"click_mode must be one of {', '.join(CLICK_MODES)}")
    every = data.get("sample_every", current.sample_every if current else 100)
    if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= MAX_SAMPLE_EVERY:
        raise InvalidField("sample_every", f"sample_every must be 1-{MAX_SAMPLE_EVERY}")
    enabled = _flag(data, "enabled", current.enabled if current else True)
    return EndpointInput(url, events, description.strip(), str(mode), every, enabled)


def to_json(
    ep: Endpoint, counts: Mapping[str, int] | None = None, secret: str | None = None
) -> dict[str, Any]:
    """The endpoint as the API shows it; `secret` only right after creation or rotation."""
    out: dict[str, Any] = {
        "id": ep.id,
        "url": ep.url,
        "events": list(ep.events),
        "description": ep.description,
        "click_mode": ep.click_mode,
        "sample_every": ep.sample_every,
        "enabled": ep.enabled,
        "previous_secret_valid_until": iso(ep.previous_until) if ep.previous_until else None,
        "created_at": iso(ep.created_at),
        "updated_at": iso(ep.updated_at),
    }
    if counts is not None:
        out["queue"] = dict(counts)
    if secret is not None:
        out["secret"] = secret
    return out


def delivery_json(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "message_id": d.msg_id,
        "event_type": d.event_type,
        "ts": iso(d.ts),
        "status": d.status,
        "attempt": d.attempt,
        "http_status": d.http_status,
        "latency_ms": None if d.latency_ms is None else round(d.latency_ms, 1),
        "error": d.error,
    }


@dataclass
class MinuteCounts:
    """Clicks or scans counted per (minute, kind, link) until the minute is over."""

    counts: dict[tuple[int, str, int], int] = field(default_factory=dict)

    def add(self, ts: float, kind: str, link_id: int, n: int = 1) -> None:
        key = (int(ts // 60) * 60, kind, link_id)
        self.counts[key] = self.counts.get(key, 0) + n

    def closed(self, now: float) -> list[tuple[int, str, int, int]]:
        """The counts of minutes that are over, removed: (minute, kind, link id, count)."""
        current = int(now // 60) * 60
        done = [(m, k, c, n) for (m, k, c), n in self.counts.items() if m < current]
        for m, k, c, _ in done:
            del self.counts[(m, k, c)]
        return sorted(done)


# --- payloads: ids, codes, amounts and tags; never personal data ---------------------------

LEAD_PREFIX = "lead"  # a conversion of a goal named lead… is also a `lead.created`


def link_data(link: Link) -> dict[str, Any]:
    return {
        "link": {
            "id": link.id,
            "code": link.code,
            "domain": link.domain or None,
            "destination": link.destination,
            **{name: getattr(link, name) for name in UTM_FIELDS},
            "campaign": link.campaign,
            "tags": list(link.tags),
            "kind": link.kind,
            "archived": link.archived,
            "version": link.version,
        }
    }


def conversion_data(conv: Conversion) -> dict[str, Any]:
    """The conversion without visitor ids, click ids or tokens. Hashed identifiers (SHA-256,
    as sent to ad platforms) ride along only when the visitor granted ad_user_data."""
    out: dict[str, Any] = {
        "id": conv.id,
        "event_id": conv.event_id,
        "goal": conv.goal,
        "ts": iso(conv.ts),
        "value": conv.value,
        "currency": conv.currency,
        "order_id": conv.order_id,
        "source": conv.source,
        "link_id": conv.link_id,
        "utm_source": conv.utm_source,
        "utm_medium": conv.utm_medium,
        "utm_campaign": conv.utm_campaign,
        "consent": conv.consent.to_json(),
    }
    if conv.consent.ad_user_data and conv.user_data:
        out["hashed_user_data"] = {
            k: v for k, v in sorted(conv.user_data.items()) if HASHED.fullmatch(v)
        }
    return {"conversion": out}


def is_lead(conv: Conversion) -> bool:
    return conv.goal.lower().startswith(LEAD_PREFIX)


def call_data(call: Call) -> dict[str, Any]:
    """The call without the caller's number (not even its last digits)."""
    return {
        "call": {
            "id": call.id,
            "provider": call.provider,
            "number_id": call.number_id,
            "status": call.status,
            "started": iso(call.started),
            "answered": iso(call.answered),
            "ended": iso(call.ended),
            "duration_seconds": call.duration_s,
            "qualified": call.conversion_id is not None,
            "conversion_id": call.conversion_id,
            "channel": call.channel,
            "link_id": call.link_id,
            "campaign": call.campaign,
            "utm_source": call.utm_source,
            "utm_medium": call.utm_medium,
            "utm_campaign": call.utm_campaign,
            "utm_content": call.utm_content,
        }
    }


KIND_EVENTS = {"click": "link.clicked", "scan": "qr.scanned"}


def count_data(kind: str, minute: int, link_id: int, n: int) -> dict[str, Any]:
    """A minute's clicks (or scans) of one link, bots left out."""
    return {"link": {"id": link_id}, "minute": iso(minute), "count": n, "kind": kind,
            "sampled": False}  # fmt: skip


def hit_data(kind: str, ts: float, link_id: int, every: int) -> dict[str, Any]:
    """One sampled click (or scan): it stands for `every` of them."""
    return {"link": {"id": link_id}, "ts": iso(ts), "kind": kind, "sampled": True,
            "sample_every": every}  # fmt: skip
