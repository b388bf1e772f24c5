"""Web analytics reports: their names, filters, sorting, paging and rows (GET /api/v1/web/…).

Every report is a site's human visits (bots excluded) in a time range, narrowed by filters
that combine (all must hold), grouped by one key: a visit column (channel, source, entry page,
country, …), the pages it viewed, the goals it reached or the custom events it sent. A row
counts `visitors` (distinct consented visitor ids, else daily visitor hashes), `visits`,
`pageviews`, `bounce_rate` (% of visits with one pageview and no event), `conversions` (goal
completions), `conversion_rate` (% of visitors with a conversion) and `revenue`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from firstmark.domain import csvcells
from firstmark.domain.channels import CHANNELS
from firstmark.errors import InvalidField

# report → what its rows are keyed by: a visits column, or "page" / "goal" / "event".
REPORTS = {
    "pages": "page",
    "entry-pages": "entry_path",
    "exit-pages": "exit_path",
    "channels": "channel",
    "sources": "source",
    "referrers": "referrer_host",
    "campaigns": "campaign",
    "countries": "country",
    "devices": "device_type",
    "browsers": "browser",
    "os": "os",
    "goals": "goal",
    "events": "event",
}
ALL_REPORTS = ("overview", *REPORTS, "realtime")
# filter → the visits column it reads; page and goal filters ask for a visit that viewed the
# page or reached the goal.
FILTERS = {
    "channel": "channel",
    "source": "source",
    "medium": "medium",
    "campaign": "campaign",
    "country": "country",
    "device": "device_type",
    "page": None,
    "goal": None,
}
ROW_FIELDS = (
    "key", "visitors", "visits", "pageviews", "bounce_rate", "visit_duration_s", "conversions",
    "conversion_rate", "revenue",
)  # fmt: skip
INTERVALS = ("hour", "day")
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
REALTIME_S = 300
MAX_FILTER = 512
NAME = re.compile(r"[A-Za-z0-9_.:/ -]{1,64}")  # as events name themselves (domain/events.py)
PROP = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # a property name the store may spell out in SQL
PARAMS = frozenset(
    {"site", "from", "to", "sort", "order", "limit", "offset", "format", "interval", "name",
     "prop", *FILTERS}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Query:
    """A checked web report request (the time range is read by the caller)."""

    site_id: int
    filters: Mapping[str, str] = field(default_factory=dict)
    sort: str = "visitors"
    descending: bool = True
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    interval: str | None = None
    event_name: str | None = None
    prop: str | None = None


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidField(name, f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise InvalidField(name, f"{name} must be between {low} and {high}")
    return value


def parse(report: str, params: Mapping[str, str]) -> Query:
    """Read a report's query string; a wrong value names its parameter."""
    if "site" not in params:
        raise InvalidField("site", "site is required (a site id)", code="required")
    site_id = _int(params, "site", 0, 1, 2**62)
    filters: dict[str, str] = {}
    for name in FILTERS:
        value = params.get(name)
        if value is None:
            continue
        if not value or len(value) > MAX_FILTER:
            raise InvalidField(name, f"{name} must be 1-{MAX_FILTER} characters")
        if name == "channel" and value not in CHANNELS:
            raise InvalidField("channel", f"channel must be one of {', '.join(CHANNELS)}")
        filters[name] = value
    sort = params.get("sort", "visitors")
    if sort not in ROW_FIELDS:
        raise InvalidField("sort", f"sort takes one of {', '.join(ROW_FIELDS)}")
    order = params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise InvalidField("order", "order must be asc or desc")
    interval = params.get("interval")
    if interval is not None and interval not in INTERVALS:
        raise InvalidField("interval", "interval must be hour or day")
    event_name = params.get("name")
    prop = params.get("prop")
    if prop is not None and report != "events":
        raise InvalidField("prop", "prop breaks down the events report only")
    if prop is not None and not event_name:
        raise InvalidField("name", "prop needs the event name", code="required")
    if event_name is not None and not NAME.fullmatch(event_name):
        raise InvalidField("name", "name must be 1-64 letters, digits, spaces or _ . : / -")
    if prop is not None and not PROP.fullmatch(prop):
        raise InvalidField("prop", "prop must be 1-64 letters, digits or _ . : -")
    if params.get("format", "json") not in ("json", "csv"):
        raise InvalidField("format", "format must be json or csv")
    return Query(
        site_id=site_id,
        filters=filters,
        sort=sort,
        descending=order == "desc",
        limit=_int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_int(params, "offset", 0, 0, 10**9),
        interval=interval,
        event_name=event_name,
        prop=prop,
    )


def interval_of(query: Query, start: float, end: float) -> str:
    """The series' bucket: as asked, else hours for up to two days and days beyond."""
    if query.interval is not None:
        return query.interval
    return "hour" if end - start <= 2 * 86400 else "day"


@dataclass(frozen=True, slots=True)
class Sums:
    """What the store adds up for one row key."""

    key: Any
    visitors: int
    visits: int
    pageviews: int
    bounces: int
    duration_s: float
    conversions: int
    converters: int  # visitors with a conversion
    revenue: float
    events: int | None = None  # the events report: how many of the row's events


def _pct(part: float, whole: float) -> float | None:
    if not whole:
        return None
    value = Decimal(part) * 100 / Decimal(whole)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN))


def row(s: Sums) -> dict[str, Any]:
    """A report row as the API answers it."""
    return {
        "key": s.key,
        "visitors": s.visitors,
        "visits": s.visits,
        "pageviews": s.pageviews,
        "bounce_rate": _pct(s.bounces, s.visits),
        "visit_duration_s": round(s.duration_s / s.visits) if s.visits else None,
        "conversions": s.conversions,
        "conversion_rate": _pct(s.converters, s.visitors),
        "revenue": f"{Decimal(repr(s.revenue)).quantize(Decimal('0.01'))}",
        **({"events": s.events} if s.events is not None else {}),
    }


def totals(s: Sums) -> dict[str, Any]:
    """The overview's totals."""
    out = row(s)
    del out["key"]
    return out


def goal_row(s: Sums, site_visitors: int) -> dict[str, Any]:
    """A goal's row: its conversion rate is over every visitor of the range (Plausible's
    reading), not over those who reached it."""
    out = row(s)
    out["conversion_rate"] = _pct(s.converters, site_visitors)
    return out


def page(rows: Sequence[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    """Rows sorted as asked (ties by key, rows without a value last) and cut to the page asked
    for."""

    def value(r: dict[str, Any]) -> Any:
        found = r[query.sort]
        if query.sort == "key":
            return str(found)
        return Decimal(found) if query.sort == "revenue" else found

    by_key = sorted(rows, key=lambda r: str(r["key"]))
    present = [r for r in by_key if r[query.sort] is not None]
    ordered = sorted(present, key=value, reverse=query.descending)  # stable: ties stay by key
    ordered += [r for r in by_key if r[query.sort] is None]
    return ordered[query.offset : query.offset + query.limit]


def to_csv(rows: Sequence[dict[str, Any]], key_name: str = "key") -> str:
    """Rows as CSV; no value reads as an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csvcells.row([key_name, *ROW_FIELDS[1:]]))
    for r in rows:
        writer.writerow(csvcells.row(["" if r[f] is None else r[f] for f in ROW_FIELDS]))
    return buffer.getvalue()
