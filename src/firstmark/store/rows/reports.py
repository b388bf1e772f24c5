"""The SQL and row shaping of reports both engines share: report dimensions, traffic and
conversion sums, journeys (conversions with their touches) and stored attribution credits
(sql/reports.py runs them)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from firstmark.domain.attribution import Step
from firstmark.domain.dimensions import DIMENSIONS
from firstmark.domain.reports import (
    ConversionTotal,
    Credits,
    CreditTotal,
    Journey,
    TrafficTotal,
    VisitTotal,
)
from firstmark.store.rows.values import check_column, money


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


# A report dimension as the visits column it reads (the entry's tags).
VISIT_DIMENSIONS = {
    "source": "source",
    "medium": "medium",
    "campaign": "campaign",
    "content": "content",
    "link": "link_id",
    "day": "day",
}
assert set(VISIT_DIMENSIONS) == set(DIMENSIONS)


def visit_totals_query(dims: Sequence[str]) -> str:
    """Human visits by report dimensions started in [?, ?), with the visitors among them who
    did not come through a short link (those count as the link's clickers)."""
    for dim in dims:
        check_column(dim, tuple(VISIT_DIMENSIONS), "group_by")
    columns = [VISIT_DIMENSIONS[d] for d in dims]
    select = "".join(f"{c}, " for c in columns)
    group = f" GROUP BY {', '.join(columns)}" if columns else ""
    return (
        f"SELECT {select}count(*), count(DISTINCT CASE WHEN link_id IS NULL THEN "
        "coalesce(visitor_id, visitor_day_hash) END) FROM visits "
        f"WHERE started >= ? AND started < ? AND NOT is_bot{group}"
    )


def visit_totals_from_rows(rows: Sequence[Sequence[Any]], keys: int) -> list[VisitTotal]:
    return [VisitTotal(tuple(r[:keys]), int(r[keys]), int(r[keys + 1])) for r in rows]


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


def traffic_from_rows(rows: Sequence[Sequence[Any]], keys: int) -> list[TrafficTotal]:
    """Rows of (dimensions, TRAFFIC_SUMS) → totals, groups without hits left out."""
    return [TrafficTotal(tuple(r[:keys]), *(int(v) for v in r[keys:])) for r in rows if r[keys]]


def conversion_totals_from_rows(rows: Sequence[Sequence[Any]], keys: int) -> list[ConversionTotal]:
    """Rows of (dimensions, currency, count, sum of values) → totals."""
    return [
        ConversionTotal(tuple(r[:keys]), r[keys], int(r[keys + 1]), money(r[keys + 2]))
        for r in rows
    ]


# --- journeys -----------------------------------------------------------------------------

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


# --- stored attribution credits -----------------------------------------------------------

CREDIT_COLUMNS = (
    "conversion_id", "ts", "currency", "model", "step", "link_id", "utm_source", "utm_medium",
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
    """Rows for attribution_credits, in CREDIT_COLUMNS order: the conversion's columns, then
    a credit row as attribution.credit_rows makes it (one tuple each, ~10 per conversion)."""
    return [
        head + row
        for c in credits
        for head in ((c.conversion_id, c.ts, c.currency),)
        for row in c.rows
    ]


# The dimensions credit_days keeps (ADR 0028): a report by link or by the touch's day reads
# the credits themselves.
ROLLED_DIMENSIONS = ("source", "medium", "campaign", "content")
_ROLLED = "model, currency, utm_source, utm_medium, utm_campaign, utm_content"
# One day's credits summed again; parameters: the day, then its [start, end) in epoch seconds.
SUM_CREDIT_DAY = (
    f"INSERT INTO credit_days (day, {_ROLLED}, share, units) "
    f"SELECT CAST(? AS INTEGER), {_ROLLED}, sum(share), sum(units) FROM attribution_credits "
    f"WHERE ts >= ? AND ts < ? GROUP BY {_ROLLED}"
)
# Take up to `?` days marked as changed (the marks go with the transaction that sums them).
TAKE_DIRTY_DAYS = (
    "DELETE FROM credit_dirty WHERE day IN "
    "(SELECT day FROM credit_dirty ORDER BY day LIMIT ?) RETURNING day"
)


def credit_totals_query(dims: Sequence[str], rolled: bool) -> str:
    """Credited conversions and cents by dimension and model, for conversions in a currency (or
    none). Parameters: the currency, then [start, end) in epoch seconds, then the currency;
    when `rolled`, the whole days [first, end) come from credit_days and only the two edges
    from the credits: currency, first day, end day, the two [start, end) of the edges,
    currency."""
    for dim in dims:
        check_column(dim, tuple(CREDIT_DIMENSIONS), "group_by")
    columns = "".join(f"{CREDIT_DIMENSIONS[d]}, " for d in dims)
    raw = f"SELECT {columns}model, currency, share, units FROM attribution_credits "
    if rolled:
        source = (
            f"SELECT {columns}model, currency, share, units FROM credit_days "
            f"WHERE day >= ? AND day < ? UNION ALL {raw}WHERE ts >= ? AND ts < ? "
            f"UNION ALL {raw}WHERE ts >= ? AND ts < ?"
        )
    else:
        source = f"{raw}WHERE ts >= ? AND ts < ?"
    return (
        f"SELECT {columns}model, sum(share), sum(CASE WHEN currency = ? THEN units END) "
        f"FROM ({source}) s WHERE (currency IS NULL OR currency = ?) GROUP BY {columns}model"
    )


def credit_totals_from_rows(rows: Sequence[Sequence[Any]], keys: int) -> list[CreditTotal]:
    return [
        CreditTotal(tuple(r[:keys]), r[keys], float(r[keys + 1]), int(r[keys + 2] or 0))
        for r in rows
    ]
