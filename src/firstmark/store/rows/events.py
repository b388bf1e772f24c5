"""Rows of the event tables as domain objects and back, shared by the engines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from firstmark.domain.attribution import Step
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.dimensions import DIMENSIONS
from firstmark.domain.events import Event, Touch
from firstmark.domain.goals import Goal
from firstmark.domain.reports import ConversionTotal, Credits, CreditTotal, Journey, TrafficTotal
from firstmark.domain.sites import Site
from firstmark.errors import Conflict
from firstmark.store.protocol import check_column, from_epoch, money

EVENT_COLUMNS = (
    "site_id", "ts", "kind", "name", "path", "visitor_day_hash", "consent", "referrer_host",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "link_id",
    "visitor_id", "session_id", "value", "currency", "country", "device_type", "is_bot", "props",
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
    "site_id", "created_at",
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


def event_params(event: Event) -> tuple[Any, ...]:
    return tuple(getattr(event, c) for c in EVENT_COLUMNS)


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


def merge_steps(
    by_visitor: Sequence[Sequence[Any]], by_token: Sequence[Sequence[Any]]
) -> list[Sequence[Any]]:
    """Step rows (conversion id, touch id, Step fields) found through the visitor and through
    the click token, each touch once, ordered by conversion and time, touch id dropped."""
    if not by_token:
        return [(row[0], *row[2:]) for row in by_visitor]
    unique = {(row[0], row[1]): row for row in (*by_visitor, *by_token)}
    ordered = sorted(unique.values(), key=lambda row: (row[0], row[2], row[1]))
    return [(row[0], *row[2:]) for row in ordered]


def journeys_from_rows(
    conversions: Sequence[Sequence[Any]], steps: Sequence[Sequence[Any]]
) -> list[Journey]:
    """Conversion rows (id, ts, value, currency, window_days, link_id, utm_source, utm_medium,
    utm_campaign) and step rows (conversion id, then the fields of a `Step`), the steps of
    each conversion in time order → journeys."""
    by_conversion: dict[int, list[Step]] = {}
    for row in steps:
        found = by_conversion.get(row[0])
        if found is None:
            found = by_conversion[row[0]] = []
        found.append(Step._make(row[1:]))
    out = []
    for cid, ts, value, currency, window, link_id, source, medium, campaign in conversions:
        credited = None
        if link_id is not None or source or medium:
            credited = Step(ts, False, link_id, source, medium, campaign)
        out.append(
            Journey(
                cid,
                ts,
                Decimal(repr(value)) if value else Decimal(0),  # attribution splits it in cents
                currency,
                int(window),
                by_conversion.get(cid, []),
                credited,
            )
        )
    return out


# --- reports ------------------------------------------------------------------------------


def report_dimensions(day: str) -> dict[str, tuple[str, str]]:
    """A report dimension as (links column, conversions column); conversions keep the UTM tags
    of the touch they were credited to, else take their link's (a click token names only a
    link). `day` is the engine's expression for the day (since the epoch) of `c.ts`."""
    found = {
        "source": ("l.utm_source", "coalesce(c.utm_source, l.utm_source)"),
        "medium": ("l.utm_medium", "coalesce(c.utm_medium, l.utm_medium)"),
        "campaign": ("l.utm_campaign", "coalesce(c.utm_campaign, l.utm_campaign)"),
        "content": ("l.utm_content", "l.utm_content"),
        "link": ("l.id", "c.link_id"),
        "day": ("r.day", day),  # days since the epoch
    }
    assert set(found) == set(DIMENSIONS)
    return found


def dimension_columns(
    dimensions: dict[str, tuple[str, str]], dims: Sequence[str], side: int
) -> list[str]:
    """The SQL expressions of report dimensions for one table (side 0: links, side 1:
    conversions), each checked against the known ones."""
    for dim in dims:
        check_column(dim, tuple(dimensions), "group_by")
    return [dimensions[d][side] for d in dims]


def traffic_query(select: str, dims: Sequence[str], first: str, last: str) -> str:
    """SELECT … FROM … of traffic sums by report dimensions (`select` lists them, with a
    trailing comma) for days in [first, last), given as the engine's placeholders; the caller
    adds GROUP BY. By day alone (the overview) the all-links table has one row a day; otherwise
    each link's days are summed first (in key order, no sort) and then joined to its tags."""
    clicks = "CASE WHEN r.kind = 'click' THEN r.hits - r.bot_hits END"
    scans = "CASE WHEN r.kind = 'scan' THEN r.hits - r.bot_hits END"
    if set(dims) <= {"day"}:
        return (
            f"SELECT {select}coalesce(sum(r.hits), 0), coalesce(sum(r.bot_hits), 0), "
            f"coalesce(sum(r.uniques), 0), coalesce(sum({clicks}), 0), "
            f"coalesce(sum({scans}), 0) FROM rollup_totals r "
            f"WHERE r.day >= {first} AND r.day < {last}"
        )
    per = "r.link_id, r.day" if "day" in dims else "r.link_id"
    per_link = (
        f"SELECT {per}, sum(r.hits) AS hits, sum(r.bot_hits) AS bot_hits, "
        f"sum(r.uniques) AS uniques, sum({clicks}) AS clicks, sum({scans}) AS scans "
        f"FROM rollup_day r WHERE r.day >= {first} AND r.day < {last} GROUP BY {per}"
    )
    return (
        f"SELECT {select}coalesce(sum(r.hits), 0), coalesce(sum(r.bot_hits), 0), "
        "coalesce(sum(r.uniques), 0), coalesce(sum(r.clicks), 0), coalesce(sum(r.scans), 0) "
        f"FROM ({per_link}) r JOIN links l ON l.id = r.link_id"
    )


def conversions_source(columns: Sequence[str]) -> str:
    """FROM of conversion sums: the links are joined only when a dimension reads them."""
    if any("l." in column for column in columns):
        return "FROM conversions c LEFT JOIN links l ON l.id = c.link_id"
    return "FROM conversions c"


def day_span(start: float, end: float) -> tuple[int, int]:
    """[first day, day after the last) of a time range; reports work in whole days."""
    return int(start // 86400), -int(-end // 86400)


# The conversions of a journey report, with the channel they were credited to.
JOURNEY_CONVERSIONS = (
    "SELECT c.id, c.ts, c.value, c.currency, g.window_days, c.link_id, "
    "coalesce(c.utm_source, l.utm_source), coalesce(c.utm_medium, l.utm_medium), "
    "coalesce(c.utm_campaign, l.utm_campaign) FROM conversions c "
    "JOIN goals g ON g.id = c.goal_id LEFT JOIN links l ON l.id = c.link_id"
)
# Step rows (see merge_steps) of touch t for conversion c of goal g: conversion id, touch id,
# then the fields of a Step; "direct" as events.Touch.direct reads it.
JOURNEY_STEP = (
    "c.id, t.id, t.ts, (t.link_id IS NULL AND coalesce(t.utm_source, '') = '' "
    "AND t.click_ids = '{}'), t.link_id, t.utm_source, t.utm_medium, t.utm_campaign, "
    "t.utm_content"
)
JOURNEY_WINDOW = "t.ts >= c.ts - g.window_days * 86400 AND t.ts <= c.ts"


def traffic_from_rows(rows: Sequence[Sequence[Any]], keys: int) -> list[TrafficTotal]:
    """Rows of (dimensions, TRAFFIC_SUMS) → totals, groups without hits left out."""
    return [TrafficTotal(tuple(r[:keys]), *(int(v) for v in r[keys:])) for r in rows if r[keys]]


def conversion_totals_from_rows(rows: Sequence[Sequence[Any]], keys: int) -> list[ConversionTotal]:
    """Rows of (dimensions, currency, count, sum of values) → totals."""
    return [
        ConversionTotal(tuple(r[:keys]), r[keys], int(r[keys + 1]), money(r[keys + 2]))
        for r in rows
    ]


# --- stored attribution credits -----------------------------------------------------------

CREDIT_COLUMNS = (
    "conversion_id", "model", "step", "ts", "currency", "link_id", "utm_source", "utm_medium",
    "utm_campaign", "utm_content", "day", "share", "units",
)  # fmt: skip
CREDIT_DIMENSIONS = {
    "source": "utm_source",
    "medium": "utm_medium",
    "campaign": "utm_campaign",
    "content": "utm_content",
    "link": "link_id",
    "day": "day",
}
UNCREDITED = " AND NOT EXISTS (SELECT 1 FROM credited d WHERE d.conversion_id = c.id)"


def credit_params(credits: Sequence[Credits]) -> list[tuple[Any, ...]]:
    """Rows for attribution_credits, in CREDIT_COLUMNS order."""
    return [
        (c.conversion_id, *row[:2], c.ts, c.currency, *row[2:]) for c in credits for row in c.rows
    ]


def credit_totals_query(dims: Sequence[str], marks: Sequence[str]) -> str:
    """Credited conversions and cents by dimension and model, for conversions in [ts, ts) in a
    currency (or none); marks: the engine's placeholders for start, end, currency (three times)."""
    for dim in dims:
        check_column(dim, tuple(CREDIT_DIMENSIONS), "group_by")
    columns = "".join(f"{CREDIT_DIMENSIONS[d]}, " for d in dims)
    start, end, cur1, cur2 = marks
    return (
        f"SELECT {columns}model, sum(share), sum(CASE WHEN currency = {cur1} THEN units END) "
        f"FROM attribution_credits WHERE ts >= {start} AND ts < {end} "
        f"AND (currency IS NULL OR currency = {cur2}) GROUP BY {columns}model"
    )


def credit_totals_from_rows(rows: Sequence[Sequence[Any]], keys: int) -> list[CreditTotal]:
    return [
        CreditTotal(tuple(r[:keys]), r[keys], float(r[keys + 1]), int(r[keys + 2] or 0))
        for r in rows
    ]


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


# The conversions a touch may change; their credits are dropped, to be made again.
STALE = {
    "visitor_id": "SELECT id FROM conversions WHERE visitor_id = {0} AND ts >= {1}",
    "click_token": "SELECT id FROM conversions WHERE click_token = {0} AND ts >= {1}",
}
