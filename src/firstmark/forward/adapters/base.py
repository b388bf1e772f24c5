"""What every adapter shares: the conversion as it is sent, the destination opened for
sending, per-event outcomes, and the HTTP status policy.

An adapter module is pure and satisfies the `Adapter` protocol below:
`build(batch, target, now) -> httpx.Request` and `classify(response, batch) -> list[Outcome]`
(one per event, in batch order), plus the constants PLATFORM, API_VERSION, CHECKED (the date
its docs were last checked), MAX_BATCH (events per request) and MAX_AGE_S (how old an event
the platform still takes, the platform's own window; the worker keeps outbox.MARGIN_S inside
it). Optional hooks, looked up by the worker: `batch_key(item)` splits batches where a request
may hold only one key (GA4: one client and one consent state); `max_age(options, ts)` replaces
MAX_AGE_S where the window depends on the destination or the day (GA4 for Google Ads export);
`unsendable(item, target)` names why one event cannot go at all (no identifier the platform
accepts), so it dies alone instead of sinking or polluting the batch.

Every request says who sends it: USER_AGENT on every outbound request.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol

import httpx

from firstmark import __version__
from firstmark.domain.conversions import Conversion
from firstmark.domain.events import redact
from firstmark.forward import hashing

EXCERPT = 300
USER_AGENT = f"firstmark/{__version__} (self-hosted first-party conversion forwarding)"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One conversion on its way to one destination. Client IP and user agent are clear
    only here, in memory, opened from the outbox row just before sending."""

    outbox_id: int
    conversion: Conversion
    event_name: str
    click_ids: Mapping[str, str] = field(default_factory=dict)
    client_ip: str | None = None
    user_agent: str | None = None
    page_url: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """A destination opened for sending: clear credentials, in memory only."""

    platform: str
    credentials: Mapping[str, str]
    endpoint_base: str | None = None
    test_mode: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    id: int | None = None

    def base(self, default: str) -> str:
        return (self.endpoint_base or default).rstrip("/")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one event: sent, to be retried (transient), or dead (permanent)."""

    status: str  # sent | retry | dead
    message: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "sent"


SENT = Outcome("sent")


class Adapter(Protocol):
    """What the outbox worker and the destination test (forward/probe.py) use of an adapter.
    The nine modules satisfy it as modules: the registry in `adapters/__init__.py` is typed
    with it, so mypy checks each module's constants and signatures. The constants are
    read-only properties here, so a module's `MAX_AGE_S = 7 * 86400` (an int) still fits."""

    @property
    def PLATFORM(self) -> str: ...  # the `platform` of a destination row
    @property
    def API_VERSION(self) -> str: ...
    @property
    def CHECKED(self) -> str: ...  # the date the platform's docs were last checked
    @property
    def MAX_BATCH(self) -> int: ...  # events per request
    @property
    def MAX_AGE_S(self) -> float: ...  # how old an event the platform still takes

    def build(self, batch: Sequence[Outgoing], target: Target, now: float) -> httpx.Request:
        """The one HTTP request that sends the batch; pure (no IO, no clock but `now`)."""
        ...

    def classify(self, response: httpx.Response, batch: Sequence[Outgoing]) -> list[Outcome]:
        """One outcome per event of the batch, in batch order."""
        ...


BatchKey = Callable[[Outgoing], str]
"""An adapter's optional `batch_key(item)`: events with different keys never share a request
(GA4: one client a request). A Protocol has no optional members, so the worker looks it up."""


MaxAge = Callable[[Mapping[str, Any], float], float]
Unsendable = Callable[[Outgoing, Target], "str | None"]


def batch_key(adapter: Adapter) -> BatchKey | None:
    key: BatchKey | None = getattr(adapter, "batch_key", None)
    return key


def api_version(adapter: Adapter, target: Target) -> str:
    """The API version a request to this destination uses (Google's legacy path has its own)."""
    hook: Callable[[Target], str] | None = getattr(adapter, "api_version", None)
    return adapter.API_VERSION if hook is None else hook(target)


def max_age(adapter: Adapter, options: Mapping[str, Any], ts: float) -> float:
    """The platform's window for an event at `ts` (before the worker's margin)."""
    hook: MaxAge | None = getattr(adapter, "max_age", None)
    return float(adapter.MAX_AGE_S) if hook is None else hook(options, ts)


def unsendable(adapter: Adapter, item: Outgoing, target: Target) -> str | None:
    """Why the platform cannot take this one event, or None."""
    hook: Unsendable | None = getattr(adapter, "unsendable", None)
    return None if hook is None else hook(item, target)


def excerpt(text: str) -> str:
    """A short, single-line piece of a platform's message, emails redacted."""
    flat = " ".join(text.split())
    return redact(flat[:EXCERPT])


def body_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def message_of(response: httpx.Response) -> str:
    """The platform's own words: `error.message` (Graph API, Google, Microsoft), `message`,
    or the body text."""
    data = body_json(response)
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return excerpt(error["message"])
        if isinstance(error, str):
            return excerpt(error)
        for key in ("message", "error_description", "description"):
            if isinstance(data.get(key), str):
                return excerpt(data[key])
    return excerpt(response.text) or f"HTTP {response.status_code}"


REQUEST_ID_HEADERS = ("x-fb-trace-id", "x-request-id", "request-id", "x-li-uuid", "x-tt-logid")
REQUEST_ID_KEYS = ("requestId", "request_id", "fbtrace_id")


def request_id(response: httpx.Response, data: Any = None) -> str | None:
    """The platform's own id for a request, from its answer: Google's `requestId`, Meta's
    `fbtrace_id`, TikTok's `request_id`, or a trace header. At most 128 characters."""
    data = body_json(response) if data is None else data
    if isinstance(data, dict):
        for key in REQUEST_ID_KEYS:
            if isinstance(data.get(key), str | int) and str(data[key]):
                return str(data[key])[:128]
    for header in REQUEST_ID_HEADERS:
        if response.headers.get(header):
            return response.headers[header][:128]
    return None


def retry_after(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retryable_status(status: int) -> bool:
    """Transient per the retry policy: 408, 423, 429 and 5xx except 501."""
    return status in (408, 423, 429) or (500 <= status < 600 and status != 501)


def by_status(response: httpx.Response, batch: Sequence[Outgoing]) -> list[Outcome] | None:
    """The whole batch's outcome from a non-2xx status, or None for a 2xx (the adapter then
    reads the body for per-event results)."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    message = f"HTTP {status}: {message_of(response)}"
    if retryable_status(status):
        return [Outcome("retry", message, retry_after(response))] * len(batch)
    return [Outcome("dead", message)] * len(batch)


def all_sent(batch: Sequence[Outgoing]) -> list[Outcome]:
    return [SENT] * len(batch)


def json_request(
    method: str, url: str, payload: Any, headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> httpx.Request:  # fmt: skip
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return httpx.Request(
        method,
        url,
        params=params,
        content=body,
        headers={"content-type": "application/json", "user-agent": USER_AGENT, **(headers or {})},
    )


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def money(conv: Conversion) -> tuple[float | None, str | None]:
    return conv.value, conv.currency


def decimal_text(value: float) -> str:
    """A value as the exact decimal it was given as (120.5 → "120.5", 1234567.89 →
    "1234567.89"): the shortest repr, never an exponent, never `%g` rounding."""
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


# ISO 4217 currencies whose minor unit is not 1/100.
MINOR_DIGITS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
         "VND", "VUV", "XAF", "XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip


def minor_amount(value: float, currency: str | None) -> str:
    """The amount rounded half-even to the currency's minor unit, as a decimal string
    (EUR 120.5 → "120.50", JPY 1200 → "1200", KWD 1.2345 → "1.234")."""
    digits = MINOR_DIGITS.get((currency or "").upper(), 2)
    exact = Decimal(repr(float(value)))
    return str(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN))


def keyed(batch: Sequence[Outgoing], key: Callable[[Outgoing], str]) -> dict[str, list[int]]:
    """Indexes of the batch per key, in order."""
    out: dict[str, list[int]] = {}
    for index, item in enumerate(batch):
        out.setdefault(key(item), []).append(index)
    return out


def meta_style_user(platform: str, item: Outgoing) -> dict[str, Any]:
    """user_data as Meta shapes it (and Pinterest and Snapchat after it): the hashed fields,
    then the client's address and user agent in clear, which only a consented conversion's
    sealed outbox row carries."""
    user: dict[str, Any] = dict(hashing.meta_style(platform, item.conversion.user_data))
    if item.client_ip:
        user["client_ip_address"] = item.client_ip
    if item.user_agent:
        user["client_user_agent"] = item.user_agent
    return user


def custom_data(
    conv: Conversion,
    *,
    order_key: str = "order_id",
    value: Callable[[float], Any] | None = None,
) -> dict[str, Any]:
    """custom_data as Meta shapes it (and Microsoft, Pinterest and Snapchat after it): the
    value with its currency (`value` writes it where a platform wants text), and the order
    id; empty when the conversion has neither."""
    custom: dict[str, Any] = {}
    if conv.value is not None:
        custom["value"] = conv.value if value is None else value(conv.value)
        custom["currency"] = conv.currency
    if conv.order_id:
        custom[order_key] = conv.order_id
    return custom


def meta_style_event(
    item: Outgoing,
    action_source: str,
    user: dict[str, Any],
    value: Callable[[float], Any] | None = None,
) -> dict[str, Any]:
    """One event as Meta shapes it (and Pinterest and Snapchat after it), with the user_data
    and action_source the platform made for it."""
    conv = item.conversion
    out: dict[str, Any] = {
        "event_name": item.event_name,
        "event_time": int(conv.ts),
        "event_id": conv.event_id,
        "action_source": action_source,
        "user_data": user,
    }
    if item.page_url:
        out["event_source_url"] = item.page_url
    if custom := custom_data(conv, value=value):
        out["custom_data"] = custom
    return out
