"""Site events sent by the script to `POST /e`: strict reading, and the rows they become.

`parse` reads the JSON the script sends and refuses anything unknown, too long or of the wrong
type, naming the field. `EventInput` lives in memory only (with the page URL); what is stored is
an `Event` (path, referrer host, derived facts) and, with consent, a `Touch`: `to_rows` makes
both.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from firstmark.domain import consent as consent_rules
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.consent import Consent
from firstmark.domain.devices import Device
from firstmark.domain.hits import referrer_host
from firstmark.domain.money import amount, currency
from firstmark.domain.utm import UTM_FIELDS, normalise_utm
from firstmark.domain.visitors import visitor_day_hash
from firstmark.errors import InvalidField
from firstmark.geo import Geo

BODY_LIMIT = 8 * 1024
KINDS = ("pageview", "event", "conversion")
FIELDS = frozenset(
    {
        "site", "type", "name", "url", "referrer", "vid", "sid", "consent", "tcf", "gpc",
        "props", "value", "currency", "event_id", "landing", "ga",
    }
)  # fmt: skip
CLICK_IDS = (
    "gclid", "gbraid", "wbraid", "fbclid", "ttclid", "li_fat_id", "msclkid", "ScCid", "rdt_cid",
    "epik",
)  # fmt: skip
NAME = re.compile(r"[A-Za-z0-9_.:/ -]{1,64}")
ID = re.compile(r"[A-Za-z0-9_.:-]{8,64}")
EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
# Google Analytics' own ids, read from its first-party cookies under analytics consent:
# `_ga` → client id "1234567890.1764000000", `_ga_<container>` → session id (epoch seconds).
GA_CLIENT_ID = re.compile(r"\d{1,20}\.\d{1,20}")
GA_SESSION_ID = re.compile(r"\d{1,20}")
MAX_PROPS = 25
MAX_PROP_KEY = 64
MAX_PROP_TEXT = 256
MAX_PROPS_BYTES = 2048
MAX_URL = 2048
MAX_LANDING_VALUE = 512
MAX_PATH = 512
REDACTED = "[email]"
_EMAIL = re.compile(r"[^\s@/?&=:;,\"'<>]+@[^\s@/?&=:;,\"'<>]+\.[A-Za-z]{2,}")


REDACTED_PHONE = "[phone]"
# A phone number as people type one: international (+ or 00, then 7-15 digits, spaces, dots,
# dashes or brackets between), or national with its digits grouped by separators. Checked
# for 9-15 digits below, and never a date: bare digit runs (order ids, amounts) stay.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+|00)\d[\d\s.()/-]{5,22}\d(?!\w)"
    r"|(?<![\w+.-])\(?\d{2,5}\)?(?:[\s.-]\(?\d{2,5}\)?){2,4}(?![\w.-]?\d)"
)
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}")


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = sum(c.isdigit() for c in found)
    if found.startswith(("+", "00")):
        return REDACTED_PHONE if 8 <= digits <= 17 else found
    if 9 <= digits <= 15 and not _DATE.search(found):
        return REDACTED_PHONE
    return found


def redact_prop(text: str) -> str:
    """A prop's text: e-mail addresses and phone numbers redacted (props are free-form, and
    forms put both in them)."""
    text = redact(text)
    return _PHONE.sub(_phone, text) if sum(c.isdigit() for c in text) >= 8 else text


def redact(text: str) -> str:
    """Email addresses in free text (a path, a prop, a UTM value) become '[email]': pages and
    campaign links leak them more often than anyone intends."""
    return _EMAIL.sub(REDACTED, text) if "@" in text else text


@dataclass(frozen=True, slots=True)
class EventInput:
    """One event as the script sent it, checked. Never stored as such."""

    site_key: str
    kind: str
    name: str
    url: str
    host: str  # of the page URL
    path: str
    referrer: str = ""
    visitor_id: str | None = None
    session_id: str | None = None
    consent: Mapping[str, object] | None = None
    tcf: str | None = None
    gpc: bool = False
    props: str | None = None  # JSON text
    value: float | None = None
    currency: str | None = None
    event_id: str | None = None
    landing: Mapping[str, str] = field(default_factory=dict)
    ga: Mapping[str, str] = field(default_factory=dict)  # client_id, session_id


class RawEvent(NamedTuple):
    """What the ingest path queues: the input, its site, the time, and the request's address
    and user agent (dropped by the writer once the facts are derived)."""

    event: EventInput
    site_id: int
    consent: Consent
    ts: float
    ip: str
    user_agent: str


@dataclass(frozen=True, slots=True)
class Event:
    """The stored row."""

    site_id: int
    ts: float
    kind: str
    name: str
    path: str
    visitor_day_hash: str
    consent: str
    referrer_host: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    link_id: int | None = None
    visitor_id: str | None = None
    session_id: str | None = None
    value: float | None = None
    currency: str | None = None
    country: str | None = None
    device_type: str | None = None
    is_bot: bool = False
    props: str | None = None
    visit_key: str | None = None  # the visit it belongs to (domain/visits.py), set on write
    visit_started: float | None = None


_EVENT_FIELDS = tuple(Event.__dataclass_fields__)[:-2]
assert _EVENT_FIELDS[-1] == "props"
_EVENT_VALUES = attrgetter(*_EVENT_FIELDS)


def in_visit(event: Event, key: str, started: float) -> Event:
    """The event naming its visit. Built from one C call that reads every field: the writer
    does this for every event, and `dataclasses.replace` costs ten times as much."""
    values: tuple[Any, ...] = (*_EVENT_VALUES(event), key, started)
    return Event(*values)


@dataclass(frozen=True, slots=True)
class Touch:
    """A visit from a channel: the input of attribution. Stored with analytics consent only."""

    ts: float
    site_id: int | None = None
    visitor_id: str | None = None
    click_token: str | None = None
    link_id: int | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    click_ids: Mapping[str, str] = field(default_factory=dict)
    id: int | None = None

    @property
    def direct(self) -> bool:
        return self.link_id is None and not self.utm_source and not self.click_ids


def _text(data: Mapping[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    value = data.get(name)
    if value is None:
        if required:
            raise InvalidField(name, f"{name} is required", code="required")
        return ""
    if not isinstance(value, str):
        raise InvalidField(name, f"{name} must be a string", code="invalid_type")
    if len(value) > limit:
        raise InvalidField(name, f"{name} is longer than {limit} characters")
    return value


def _id(data: Mapping[str, Any], name: str) -> str | None:
    value = _text(data, name, 64)
    if not value:
        return None
    if not ID.fullmatch(value):
        raise InvalidField(name, f"{name} must be 8-64 letters, digits or _ . : -")
    return value


def _props(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidField("props", "props must be an object", code="invalid_type")
    if len(value) > MAX_PROPS:
        raise InvalidField("props", f"props may have at most {MAX_PROPS} keys")
    for key, item in value.items():
        if not key or len(key) > MAX_PROP_KEY:
            raise InvalidField("props", f"props keys must be 1-{MAX_PROP_KEY} characters")
        if isinstance(item, str):
            if len(item) > MAX_PROP_TEXT:
                raise InvalidField(f"props.{key}", f"props values are at most {MAX_PROP_TEXT} long")
        elif isinstance(item, float) and not math.isfinite(item):
            raise InvalidField(f"props.{key}", "props numbers must be finite")
        elif item is not None and not isinstance(item, bool | int | float):
            raise InvalidField(
                f"props.{key}", "props values must be text, numbers, booleans or null",
                code="invalid_type",
            )  # fmt: skip
    if not value:
        return None
    clean = {k: redact_prop(v) if isinstance(v, str) else v for k, v in value.items()}
    text = json.dumps(clean, separators=(",", ":"), ensure_ascii=False)
    if len(text.encode()) > MAX_PROPS_BYTES:
        raise InvalidField("props", f"props are larger than {MAX_PROPS_BYTES} bytes")
    return text


def _landing(value: object, token_param: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidField("landing", "landing must be an object", code="invalid_type")
    known = {*UTM_FIELDS, token_param, *CLICK_IDS}
    out: dict[str, str] = {}
    for key, item in value.items():
        if key not in known:
            raise InvalidField(
                f"landing.{key}", f"unknown landing field {key!r}", code="unknown_field"
            )
        if not isinstance(item, str) or len(item) > MAX_LANDING_VALUE:
            raise InvalidField(
                f"landing.{key}", f"landing.{key} must be text up to {MAX_LANDING_VALUE} long"
            )
        if item:
            out[key] = item
    return out


def _ga(value: object) -> dict[str, str]:
    """GA's client and session ids as fm.js read them from GA's cookies."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidField("ga", "ga must be an object", code="invalid_type")
    out: dict[str, str] = {}
    for key, item in value.items():
        pattern = {"client_id": GA_CLIENT_ID, "session_id": GA_SESSION_ID}.get(key)
        if pattern is None:
            raise InvalidField(f"ga.{key}", f"unknown ga field {key!r}", code="unknown_field")
        if item is None:
            continue
        if not isinstance(item, str) or not pattern.fullmatch(item):
            raise InvalidField(f"ga.{key}", f"ga.{key} is not a Google Analytics id")
        out[key] = item
    return out


def _page(url: str) -> tuple[str, str]:
    """(host, path) of the page; the query and fragment are dropped (they may hold personal
    data)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise InvalidField("url", "url is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidField("url", "url must be the page's http(s) URL")
    return host, redact((parts.path or "/")[:MAX_PATH])


def parse(data: object, *, token_param: str = "fm_click") -> EventInput:
    """Check one event body from the script."""
    if not isinstance(data, Mapping):
        raise InvalidField("body", "send one JSON object", code="invalid_type")
    unknown = set(data) - FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidField(name, f"unknown field {name!r}", code="unknown_field")
    site = _text(data, "site", 64, required=True)
    kind = _text(data, "type", 16) or "pageview"
    if kind not in KINDS:
        raise InvalidField("type", "type must be pageview, event or conversion")
    name = _text(data, "name", 64) or ("pageview" if kind == "pageview" else "")
    if not name:
        raise InvalidField("name", "name is required for events and conversions", code="required")
    if not NAME.fullmatch(name):
        raise InvalidField("name", "name must be 1-64 letters, digits, spaces or _ . : / -")
    url = _text(data, "url", MAX_URL, required=True)
    host, path = _page(url)
    gpc = data.get("gpc", False)
    if not isinstance(gpc, bool):
        raise InvalidField("gpc", "gpc must be true or false", code="invalid_type")
    consent = data.get("consent")
    if consent is not None and not isinstance(consent, Mapping):
        raise InvalidField("consent", "consent must be an object", code="invalid_type")
    tcf = data.get("tcf")
    if tcf is not None and not isinstance(tcf, str):
        raise InvalidField("tcf", "tcf must be a string", code="invalid_type")
    event_id = _text(data, "event_id", 64) or None
    if event_id is not None and not EVENT_ID.fullmatch(event_id):
        raise InvalidField("event_id", "event_id must be 1-64 letters, digits or _ . : -")
    value = amount(data.get("value"))
    money = currency(data.get("currency"))
    if value is not None and money is None and kind == "conversion":
        raise InvalidField("currency", "a value needs a currency", code="required")
    checked = EventInput(
        site_key=site,
        kind=kind,
        name=name,
        url=url,
        host=host,
        path=path,
        referrer=_text(data, "referrer", MAX_URL),
        visitor_id=_id(data, "vid"),
        session_id=_id(data, "sid"),
        consent=consent,
        tcf=tcf,
        gpc=gpc,
        props=_props(data.get("props")),
        value=value,
        currency=money,
        event_id=event_id,
        landing=_landing(data.get("landing"), token_param),
        ga=_ga(data.get("ga")),
    )
    consent_rules.from_page(consent, tcf=tcf, gpc=gpc)  # refuse bad consent values here
    return checked


_NO_UTM: Mapping[str, str | None] = dict.fromkeys(
    ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
)


def utm_of(landing: Mapping[str, str]) -> Mapping[str, str | None]:
    """The five stored UTM fields of a landing, normalised like link UTM values."""
    if not landing:  # most events: a page without tags
        return _NO_UTM
    return {
        name: redact(normalise_utm(landing[name]))[:200] if landing.get(name) else None
        for name in UTM_FIELDS
        if name != "utm_id"
    }


def click_ids_of(landing: Mapping[str, str]) -> dict[str, str]:
    if not landing:
        return {}
    return {name: landing[name] for name in CLICK_IDS if landing.get(name)}


def to_rows(
    raw: RawEvent,
    *,
    salt: bytes,
    device: Device,
    geo: Geo | None,
    signer: ClickSigner,
    token_param: str = "fm_click",
) -> tuple[Event, Touch | None]:
    """The stored event, and its touch: with analytics consent, on a landing from one of our
    links, a campaign or an ad. `salt` is the day's, `device` the user agent's, `geo` the
    address's (None without one); the address and user agent themselves end here. A click
    token counts only when `signer` issued it."""
    given, agreed = raw.event, raw.consent
    token = given.landing.get(token_param)
    click = signer.verify(token) if token else None
    link_id = click.link_id if click else None
    utm = utm_of(given.landing)
    keep = agreed.identifiers
    event = Event(
        site_id=raw.site_id,
        ts=raw.ts,
        kind=given.kind,
        name=given.name,
        path=given.path,
        visitor_day_hash=visitor_day_hash(salt, given.host, raw.ip, raw.user_agent),
        consent=agreed.recorded,
        referrer_host=referrer_host(given.referrer[:2048], given.host),
        link_id=link_id,
        visitor_id=given.visitor_id if keep else None,
        session_id=given.session_id if keep else None,
        value=given.value,
        currency=given.currency,
        country=geo.country if geo is not None else None,
        device_type=device.device_type,
        is_bot=device.is_bot,
        props=given.props,
        utm_source=utm["utm_source"],
        utm_medium=utm["utm_medium"],
        utm_campaign=utm["utm_campaign"],
        utm_term=utm["utm_term"],
        utm_content=utm["utm_content"],
    )
    touch = None
    click_ids = click_ids_of(given.landing) if agreed.click_ids else {}
    if keep and (link_id is not None or utm["utm_source"] or click_ids):
        touch = Touch(
            ts=raw.ts,
            site_id=raw.site_id,
            visitor_id=given.visitor_id,
            click_token=token if click else None,
            link_id=link_id,
            click_ids=click_ids,
            utm_source=utm["utm_source"],
            utm_medium=utm["utm_medium"],
            utm_campaign=utm["utm_campaign"],
            utm_term=utm["utm_term"],
            utm_content=utm["utm_content"],
        )
    return event, touch
