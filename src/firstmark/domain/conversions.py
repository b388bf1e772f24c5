"""Conversions: a goal reached, from the site script, a backend or a call.

`event_id` is the idempotency key end to end. A backend conversion is read strictly by
`parse`; user data is hashed there (and kept only with ad consent), so no clear email or phone
number ever leaves this module.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from firstmark.domain import consent as consent_rules
from firstmark.domain.attribution import last_non_direct
from firstmark.domain.clicks import token_variant
from firstmark.domain.consent import Consent
from firstmark.domain.events import (
    CLICK_IDS,
    GA_CLIENT_ID,
    GA_SESSION_ID,
    ID,
    RawEvent,
    Touch,
    click_ids_of,
)
from firstmark.domain.goals import Goal
from firstmark.domain.goals import name as goal_name
from firstmark.domain.money import amount, currency
from firstmark.domain.times import EARLIEST_TS, iso_ts
from firstmark.domain.userdata import hash_user_data
from firstmark.errors import InvalidField

SOURCES = ("web", "server", "call")
EVENT_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
FIELDS = frozenset(
    {
        "event_id", "goal", "ts", "value", "currency", "order_id", "click_token", "visitor_id",
        "consent", "user_data", "client_ip", "user_agent", "gpc", "click_ids",
        "event_source_url", "customer_id",
    }
)  # fmt: skip
MAX_BATCH = 1000
FUTURE_SKEW_S = 300
MAX_ORDER_ID = 128
BACKEND_CLICK_IDS = (*CLICK_IDS, "fbc", "fbp", "ttp", "ga_client_id", "ga_session_id")
# GA's own ids (its `_ga` / `_ga_<container>` cookies), for GA4's client_id and session_id.
GA_IDS = {"ga_client_id": GA_CLIENT_ID, "ga_session_id": GA_SESSION_ID}


@dataclass(frozen=True, slots=True)
class Conversion:
    event_id: str
    goal_id: int
    ts: float
    consent: Consent
    source: str
    value: float | None = None
    currency: str | None = None
    order_id: str | None = None
    visitor_id: str | None = None
    click_token: str | None = None
    link_id: int | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    user_data: Mapping[str, str] = field(default_factory=dict)
    site_id: int | None = None
    variant: int | None = None  # the A/B variant its click token names
    id: int | None = None
    goal: str = ""  # the goal's name, filled in on reading
    created_at: float | None = None
    # SHA-256 of the backend's own customer id (analytics consent), for counting customers.
    customer_hash: str | None = None
    # A CRM deal's offline action source (`system_generated` or `physical_store`), else None.
    action_source: str | None = None
    # For forwarding only, never stored with the conversion: ad click ids (ads consent) go to
    # the outbox rows, and the client's IP, user agent and page URL only sealed (encrypted).
    click_ids: Mapping[str, str] = field(default_factory=dict)
    sealed_client: str | None = None


@dataclass(frozen=True, slots=True)
class ConversionInput:
    """A backend conversion, checked. `client_ip` and `user_agent` are for forwarding only;
    they are never stored with the conversion."""

    event_id: str
    goal: str
    ts: float
    consent: Consent
    value: float | None
    currency: str | None
    order_id: str | None
    click_token: str | None
    visitor_id: str | None
    user_data: Mapping[str, str]
    client_ip: str | None = None
    user_agent: str | None = None
    click_ids: Mapping[str, str] = field(default_factory=dict)
    event_source_url: str | None = None
    customer_hash: str | None = None  # the backend's customer id, hashed on receipt


def parse_ts(value: object, now: float, field_name: str = "ts") -> float:
    """ISO 8601 with an offset, or Unix epoch seconds; the future is refused."""
    if value is None:
        return now
    if isinstance(value, bool):
        raise InvalidField(field_name, f"{field_name} must be ISO 8601 or epoch seconds")
    if isinstance(value, int | float):
        try:
            ts = float(value)
        except OverflowError:
            ts = math.inf
        if not math.isfinite(ts) or ts < 946684800:  # 2000-01-01
            raise InvalidField(field_name, f"{field_name} is not a plausible epoch time")
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidField(
                field_name, f"{field_name} must be ISO 8601 like 2026-11-25T12:00:00+01:00"
            ) from None
        if parsed.tzinfo is None:
            raise InvalidField(field_name, f"{field_name} needs a UTC offset (Z or +hh:mm)")
        try:
            ts = parsed.timestamp()
        except OverflowError:  # year 1 at +14:00 is before year 1 in UTC
            ts = -math.inf
        if ts < EARLIEST_TS:
            raise InvalidField(field_name, f"{field_name} must not be before 2000-01-01")
    else:
        raise InvalidField(field_name, f"{field_name} must be ISO 8601 or epoch seconds")
    if ts > now + FUTURE_SKEW_S:
        raise InvalidField(field_name, f"{field_name} is in the future")
    return ts


def _text(data: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(name, f"{name} must be a string", code="invalid_type")
    if not value.strip() or len(value) > limit:
        raise InvalidField(name, f"{name} must be 1-{limit} characters")
    return value.strip()


def _click_ids(value: object) -> dict[str, str]:
    """Ad click ids a backend kept from the landing page; `fbc`/`fbp` are Meta's cookies,
    forwarded byte for byte."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidField("click_ids", "click_ids must be an object", code="invalid_type")
    out: dict[str, str] = {}
    for key, raw in value.items():
        if key not in BACKEND_CLICK_IDS:
            raise InvalidField(
                f"click_ids.{key}", f"unknown click id {key!r}", code="unknown_field"
            )
        if not isinstance(raw, str) or not 0 < len(raw) <= 512:
            raise InvalidField(f"click_ids.{key}", f"click_ids.{key} must be 1-512 characters")
        if key in GA_IDS and not GA_IDS[key].fullmatch(raw):
            raise InvalidField(f"click_ids.{key}", f"click_ids.{key} is not a Google Analytics id")
        out[key] = raw
    return out


def _page_url(value: object) -> str | None:
    """The page of the conversion, scheme, host and path only (queries carry personal data)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 2048:
        raise InvalidField("event_source_url", "event_source_url must be a URL")
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        raise InvalidField("event_source_url", "event_source_url must be a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidField("event_source_url", "event_source_url must be an http(s) URL")
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path or '/'}"


def parse(data: object, now: float | None = None) -> ConversionInput:
    """Check one conversion from a backend."""
    now = time.time() if now is None else now
    if not isinstance(data, Mapping):
        raise InvalidField("body", "a conversion must be a JSON object", code="invalid_type")
    unknown = set(data) - FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidField(name, f"unknown field {name!r}", code="unknown_field")
    event_id = data.get("event_id")
    if event_id is None:
        raise InvalidField(
            "event_id", "event_id is required (the idempotency key)", code="required"
        )
    if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
        raise InvalidField("event_id", "event_id must be 1-128 letters, digits or _ . : @ -")
    if data.get("goal") is None:
        raise InvalidField("goal", "goal is required", code="required")
    goal = goal_name(data.get("goal"), "goal")
    value = amount(data.get("value"))
    money = currency(data.get("currency"))
    if value is not None and money is None:
        raise InvalidField("currency", "a value needs a currency", code="required")
    gpc = data.get("gpc", False)
    if not isinstance(gpc, bool):
        raise InvalidField("gpc", "gpc must be true or false", code="invalid_type")
    visitor_id = _text(data, "visitor_id", 64)
    if visitor_id is not None and not ID.fullmatch(visitor_id):
        raise InvalidField("visitor_id", "visitor_id must be 8-64 letters, digits or _ . : -")
    agreed = consent_rules.from_backend(data.get("consent"), gpc=gpc)
    hashed = hash_user_data(data.get("user_data"))  # checked (and hashed) whatever the consent
    click_ids = _click_ids(data.get("click_ids"))  # checked whatever the consent, too
    return ConversionInput(
        event_id=event_id,
        goal=goal,
        ts=parse_ts(data.get("ts"), now),
        consent=agreed,
        value=value,
        currency=money,
        order_id=_text(data, "order_id", MAX_ORDER_ID),
        click_token=_text(data, "click_token", 256),
        visitor_id=visitor_id,
        user_data=hashed if agreed.forwarding else {},
        client_ip=_text(data, "client_ip", 64),
        user_agent=_text(data, "user_agent", 1024),
        click_ids=click_ids if agreed.click_ids else {},
        event_source_url=_page_url(data.get("event_source_url")),
        customer_hash=_customer_hash(data),
    )


def _customer_hash(data: Mapping[str, Any]) -> str | None:
    """The backend's customer id (its account or order-owner id), SHA-256 hashed like an
    e-mail; a value that already is a SHA-256 passes through. The clear id ends here."""
    value = _text(data, "customer_id", 256)
    if value is None:
        return None
    hashed = hash_user_data({"external_id": value})
    return hashed.get("external_id")


def parse_batch(data: object, now: float | None = None) -> list[ConversionInput]:
    """`{"conversions": [...]}`: every item is checked before any is stored."""
    if not isinstance(data, Mapping) or set(data) != {"conversions"}:
        raise InvalidField("conversions", 'send {"conversions": [...]}', code="invalid_type")
    items = data["conversions"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise InvalidField("conversions", f"conversions must be a list of 1-{MAX_BATCH} items")
    out: list[ConversionInput] = []
    for index, item in enumerate(items):
        try:
            out.append(parse(item, now))
        except InvalidField as exc:
            raise InvalidField(f"conversions[{index}].{exc.field}", exc.message) from None
    return out


def build(
    goal: Goal,
    *,
    event_id: str,
    ts: float,
    consent: Consent,
    source: str,
    value: float | None = None,
    currency: str | None = None,
    order_id: str | None = None,
    visitor_id: str | None = None,
    click_token: str | None = None,
    link_id: int | None = None,
    touch: Touch | None = None,
    click_ids: Mapping[str, str] | None = None,
    user_data: Mapping[str, str] | None = None,
    site_id: int | None = None,
    sealed_client: str | None = None,
    customer_hash: str | None = None,
) -> Conversion:
    """The conversion to store, however the goal was reached (the site script, a backend, a
    call, the demo): the goal's value when none was given; the visitor id and click token only
    with analytics consent; the link named, else the attributed touch's, and the channel of
    that touch; for forwarding, the touch's click ids under the caller's own (ads consent
    only) and hashed user data (when it may be forwarded)."""
    assert goal.id is not None
    keep = consent.identifiers
    if value is None and goal.default_value is not None:
        value, currency = goal.default_value, goal.currency
    return Conversion(
        event_id=event_id,
        goal_id=goal.id,
        goal=goal.name,
        ts=ts,
        consent=consent,
        source=source,
        value=value,
        currency=currency,
        order_id=order_id,
        visitor_id=visitor_id if keep else None,
        click_token=click_token if keep else None,
        link_id=link_id if link_id is not None else touch.link_id if touch else None,
        variant=_variant(click_token, link_id, touch),
        utm_source=touch.utm_source if touch else None,
        utm_medium=touch.utm_medium if touch else None,
        utm_campaign=touch.utm_campaign if touch else None,
        user_data=dict(user_data or {}) if consent.forwarding else {},
        site_id=site_id,
        click_ids=kept_ids({**touch_click_ids(touch), **(click_ids or {})}, consent),
        sealed_client=sealed_client,
        customer_hash=customer_hash if keep else None,
    )


def _variant(click_token: str | None, link_id: int | None, touch: Touch | None) -> int | None:
    """The A/B variant named by the conversion's own click token (checked by the caller), else
    by its touch's; kept without consent, as it says nothing about the person."""
    if click_token is not None:
        return token_variant(click_token)
    if touch is not None and touch.click_token is not None and link_id in (None, touch.link_id):
        return token_variant(touch.click_token)
    return None


def kept_ids(ids: Mapping[str, str], consent: Consent) -> dict[str, str]:
    """Ad click ids under ads consent; GA's own client and session ids under analytics
    consent (they are GA's identifiers, not an ad click's)."""
    return {
        k: v for k, v in ids.items() if (consent.identifiers if k in GA_IDS else consent.click_ids)
    }


def credited_touch(touches: Iterable[Touch], ts: float, goal: Goal) -> Touch | None:
    """The touch a conversion at `ts` is credited to: the last non-direct one in the goal's
    window."""
    return last_non_direct(touches, ts, goal.window_days)


def from_backend(
    checked: ConversionInput,
    goal: Goal,
    *,
    link_id: int | None,
    touch: Touch | None,
    sealed_client: str | None = None,
) -> Conversion:
    """A backend's conversion (API, CLI)."""
    return build(
        goal,
        event_id=checked.event_id,
        ts=checked.ts,
        consent=checked.consent,
        source="server",
        value=checked.value,
        currency=checked.currency,
        order_id=checked.order_id,
        visitor_id=checked.visitor_id,
        click_token=checked.click_token,
        link_id=link_id,
        touch=touch,
        click_ids=checked.click_ids,
        user_data=checked.user_data,
        sealed_client=sealed_client,
        customer_hash=checked.customer_hash,
    )


def from_event(
    raw: RawEvent,
    goal: Goal,
    *,
    link_id: int | None,
    touch: Touch | None,
    sealed_client: str | None = None,
) -> Conversion:
    """A site event that reaches a goal. Without an event id of its own it gets a new one; a
    value without a currency takes the goal's; the page's own click ids (ads consent) win
    over the touch's, an fbclid seen now."""
    given = raw.event
    own = touch_click_ids(Touch(ts=raw.ts, click_ids=click_ids_of(given.landing)))
    own.update({f"ga_{k}": v for k, v in given.ga.items()})  # kept under analytics consent
    return build(
        goal,
        event_id=given.event_id or f"web-{uuid.uuid4().hex}",
        ts=raw.ts,
        consent=raw.consent,
        source="web",
        value=given.value,
        currency=given.currency or goal.currency,
        visitor_id=given.visitor_id,
        link_id=link_id,
        touch=touch,
        click_ids=own,
        site_id=raw.site_id,
        sealed_client=sealed_client,
    )


def touch_click_ids(touch: Touch | None) -> dict[str, str]:
    """A touch's click ids; with an fbclid, also when it was seen (`fbclid_at`, epoch ms), for
    Meta's `fbc`, whose creation time is the landing's, not the conversion's."""
    if touch is None:
        return {}
    ids = dict(touch.click_ids)
    if "fbclid" in ids:
        ids["fbclid_at"] = str(int(touch.ts * 1000))
    return ids


def to_json(conv: Conversion, link: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": conv.id,
        "event_id": conv.event_id,
        "goal": conv.goal,
        "ts": iso_ts(conv.ts),
        "value": conv.value,
        "currency": conv.currency,
        "order_id": conv.order_id,
        "source": conv.source,
        "visitor_id": conv.visitor_id,
        "consent": conv.consent.to_json(),
        "user_data": sorted(conv.user_data),  # which hashes are held, never the hashes
        "attribution": {
            "model": "last_touch",
            "link_id": conv.link_id,
            "utm_source": conv.utm_source,
            "utm_medium": conv.utm_medium,
            "utm_campaign": conv.utm_campaign,
            **(link or {}),
        },
    }
