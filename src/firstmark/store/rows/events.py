"""Rows of sites, goals, events, touches and conversions as domain objects and back, shared by
the engines (sql/events.py); the reports over them are rows/reports.py."""

from __future__ import annotations

import json
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.events import Event, Touch
from firstmark.domain.goals import Goal
from firstmark.domain.sites import Site
from firstmark.errors import Conflict
from firstmark.store.rows.values import from_epoch

EVENT_COLUMNS = (
    "site_id", "ts", "kind", "name", "path", "visitor_day_hash", "consent", "referrer_host",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "link_id",
    "visitor_id", "session_id", "value", "currency", "country", "device_type", "is_bot", "props",
    "visit_key", "visit_started",
)  # fmt: skip
TOUCH_COLUMNS = (
    "site_id", "ts", "visitor_id", "click_token", "link_id", "utm_source", "utm_medium",
    "utm_campaign", "utm_term", "utm_content", "click_ids",
)  # fmt: skip
GOAL_COLUMNS = (
    "id", "name", "kind", "event_name", "default_value", "currency", "window_days", "created_at",
)  # fmt: skip
CONVERSION_COLUMNS = (
    "event_id", "goal_id", "ts", "value", "currency", "order_id", "visitor_id", "click_token",
    "link_id", "utm_source", "utm_medium", "utm_campaign", "user_data", "consent", "source",
    "site_id", "created_at", "action_source", "variant", "customer_hash",
)  # fmt: skip
CONVERSION_SELECT = (
    "SELECT c.id, g.name, "
    + ", ".join(f"c.{c}" for c in CONVERSION_COLUMNS)
    + " FROM conversions c JOIN goals g ON g.id = c.goal_id"
)
# Sites with their hosts, one row per host (or one with a NULL host); then a WHERE clause and
# ORDER BY s.id and host.
SITE_SELECT = (
    "SELECT s.id, s.key, s.name, s.created_at, h.host FROM sites s "
    "LEFT JOIN site_hosts h ON h.site_id = s.id"
)


def host_taken() -> Conflict:
    return Conflict("a host of this site belongs to another site", field="hosts")


def sites_from_rows(rows: Sequence[Sequence[Any]]) -> list[Site]:
    """Rows of SITE_SELECT, ordered by site and host → sites with their hosts."""
    sites: dict[int, Site] = {}
    hosts: dict[int, list[str]] = {}
    for site_id, key, name, created, host in rows:
        sites.setdefault(site_id, Site(name, key, (), site_id, from_epoch(created)))
        if host is not None:
            hosts.setdefault(site_id, []).append(host)
    return [Site(s.name, s.key, tuple(hosts.get(i, ())), i, s.created_at) for i, s in sites.items()]


# One C call per row instead of a generator of getattr calls: the writer does it per event.
_EVENT_VALUES = attrgetter(*EVENT_COLUMNS)


def event_params(event: Event) -> tuple[Any, ...]:
    values: tuple[Any, ...] = _EVENT_VALUES(event)
    return values


def event_from_row(row: Sequence[Any]) -> Event:
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    values["is_bot"] = bool(values["is_bot"])
    return Event(**values)


def touch_params(touch: Touch) -> tuple[Any, ...]:
    values = [getattr(touch, c) for c in TOUCH_COLUMNS[:-1]]
    return (*values, json.dumps(dict(touch.click_ids), sort_keys=True))


def touch_from_row(row: Sequence[Any]) -> Touch:
    """Row: id, then TOUCH_COLUMNS."""
    values = dict(zip(TOUCH_COLUMNS, row[1:], strict=True))
    values["click_ids"] = json.loads(values["click_ids"])
    return Touch(id=row[0], **values)


def goal_from_row(row: Sequence[Any]) -> Goal:
    values = dict(zip(GOAL_COLUMNS, row, strict=True))
    values["created_at"] = from_epoch(values["created_at"])
    return Goal(**values)


def conversion_params(conv: Conversion, now: int) -> tuple[Any, ...]:
    values: dict[str, Any] = {c: getattr(conv, c, None) for c in CONVERSION_COLUMNS}
    values["user_data"] = json.dumps(dict(conv.user_data), sort_keys=True)
    values["consent"] = json.dumps(conv.consent.to_json(), sort_keys=True)
    values["created_at"] = now
    return tuple(values[c] for c in CONVERSION_COLUMNS)


def conversion_from_row(row: Sequence[Any]) -> Conversion:
    """Row: id, goal name, then CONVERSION_COLUMNS."""
    values = dict(zip(CONVERSION_COLUMNS, row[2:], strict=True))
    values["user_data"] = json.loads(values["user_data"])
    values["consent"] = Consent.from_json(json.loads(values["consent"]))
    return Conversion(id=row[0], goal=row[1], **values)


def stale_keys(touches: Sequence[Touch]) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(visitor id, earliest touch) and (click token, earliest touch) of a batch: conversions
    of these at or after that time may be shared out differently now."""
    visitors: dict[str, float] = {}
    tokens: dict[str, float] = {}
    for t in touches:
        if t.visitor_id is not None:
            visitors[t.visitor_id] = min(t.ts, visitors.get(t.visitor_id, t.ts))
        if t.click_token is not None:
            tokens[t.click_token] = min(t.ts, tokens.get(t.click_token, t.ts))
    return list(visitors.items()), list(tokens.items())
