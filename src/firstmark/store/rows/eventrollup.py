"""The events report's daily rollups (migration event_rollup), shared by the engines: which
rollup answers a request, how a day of it is rebuilt from the custom events of the visits,
and the reads.

The events report reads them when its range is whole UTC days with no filter or one column
filter, as the other web reports do (webrollup.py): by event name (`dim` "event"), one event
by name (the row of that name), or one event by a property's value ("prop/<prop>/<name>").
A dim is built at its first report and kept from then on: the writer marks the days it
changes with dim "events", which are handed to each dim the site's reports asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from firstmark.domain.web import FILTERS, NAME, PROP, Sums
from firstmark.store.rows.web import BOUNCE, DURATION
from firstmark.store.rows.webrollup import DAY, visitor_statements

# What the event writer marks changed (web_dirty) for each day it writes visits of.
DIRTY_DIM = "events"
TABLES = ("web_event_daily", "web_event_visitors")

# (dim, the (column, value) conditions on its rows).
Key = tuple[str, tuple[tuple[str, str], ...]]


def is_event_dim(dim: str) -> bool:
    return dim == "event" or dim.startswith(("event|", "prop/"))


def key_of(
    event_name: str | None,
    prop: str | None,
    filters: Mapping[str, str],
    start: float,
    end: float,
) -> Key | None:
    """The rollup that answers the events report over [start, end) (None: the events must)."""
    if start % DAY or end % DAY or len(filters) > 1:
        return None
    match: list[tuple[str, str]] = []
    column = ""
    if filters:
        [(name, value)] = filters.items()
        column = FILTERS[name] or ""
        if not column:  # page and goal filters
            return None
        match.append(("filter", value))
    if prop is not None and event_name is not None:
        base = f"prop/{prop}/{event_name}"
    else:
        base = "event"
        if event_name is not None:
            match.append(("value", event_name))
    return base + (f"|{column}" if column else ""), tuple(match)


def _parts(dim: str) -> tuple[str | None, str | None, str]:
    """(event name, property, filter column) of a dim, each checked again: they are spelt
    out in the SQL (names and properties hold no quote, the column is a known one)."""
    base, _, column = dim.partition("|")
    if column and column not in FILTERS.values():
        raise ValueError(f"not an events rollup: {dim!r}")
    if base == "event":
        return None, None, column
    kind, _, rest = base.partition("/")
    prop, _, name = rest.partition("/")
    if kind != "prop" or not PROP.fullmatch(prop) or not NAME.fullmatch(name):
        raise ValueError(f"not an events rollup: {dim!r}")
    return name, prop, column


def rebuild_statements(
    dim: str,
    same: Callable[[str, str], str],
    join: str,
    prop_of: Callable[[str, str], str],
) -> list[tuple[str, tuple[str, ...]]]:
    """The INSERTs that rebuild a site's `dim` for the visits started in [lo, hi), with the
    names of their parameters (as webrollup.rebuild_statements). `prop_of(prop, alias)`: the
    engine's text of an event's property."""
    name, prop, by = _parts(dim)
    if prop is None:
        key, earlier_key, named = "e.name", "pe.name", ""
    else:
        key, earlier_key = prop_of(prop, "e"), prop_of(prop, "pe")
        named = f" AND {{a}}.name = '{name}'"
    custom = "{a}.kind <> 'pageview' AND NOT {a}.is_bot" + named
    # One row per (key, visit) of the window's visits: the events it sent with that key.
    events = (
        f"SELECT {key} AS k, e.visit_key, e.visit_started, count(*) AS n FROM events e "
        "WHERE e.site_id = ? AND e.ts >= ? AND e.ts < ? AND e.visit_started >= ? "
        "AND e.visit_started < ? AND e.visit_key IS NOT NULL AND "
        f"{custom.format(a='e')} GROUP BY 1, 2, 3"
    )
    source = (
        f"FROM ({events}) x {join} visits v ON v.site_id = ? AND v.key = x.visit_key "
        "AND v.started = x.visit_started WHERE NOT v.is_bot"
    )
    params = ("site", "lo", "hi+", "lo", "hi", "site")
    kept = f"v.{by}" if by else "CAST(NULL AS TEXT)"
    # An earlier visit of the visitor that sent such an event (and had the filter's value).
    earlier = (
        " AND EXISTS (SELECT 1 FROM events pe WHERE pe.site_id = p.site_id "
        "AND pe.visit_key = p.key AND pe.visit_started = p.started "
        f"AND {custom.format(a='pe')} AND {same(earlier_key, 'x.k')})"
    )
    if by:
        earlier += f" AND {same(f'p.{by}', f'v.{by}')}"
    keys = "v.site_id, v.day, x.k" + (f", {kept}" if by else "")
    daily = (
        f"INSERT INTO {TABLES[0]} (site_id, day, dim, value, filter, visits, pageviews, "
        "bounces, duration, conversions, revenue, events) "
        f"SELECT v.site_id, v.day, '{dim}', x.k, {kept}, count(*), sum(v.pageviews), "
        f"sum({BOUNCE}), sum({DURATION}), sum(v.conversions), sum(v.revenue), sum(x.n) "
        f"{source} GROUP BY {keys}"
    )
    return [(daily, params), *visitor_statements(TABLES[1], dim, "x.k", kept, source, earlier,
                                                 params)]  # fmt: skip


def _where(key: Key) -> tuple[str, list[Any]]:
    match = key[1]
    where = "site_id = ? AND dim = ? AND day >= ? AND day < ?"
    where += "".join(f" AND {column} = ?" for column, _ in match)
    return where, [value for _, value in match]


def sums_query(site_id: int, key: Key, start: float, end: float) -> tuple[str, list[Any]]:
    """The additive sums by value."""
    where, extra = _where(key)
    sql = (
        "SELECT value, sum(visits), sum(pageviews), sum(bounces), sum(duration), "
        f"sum(conversions), sum(revenue), sum(events) FROM {TABLES[0]} WHERE {where} "
        "GROUP BY value"
    )
    return sql, [site_id, key[0], int(start // DAY), int(end // DAY), *extra]


def visitors_query(site_id: int, key: Key, start: float, end: float) -> tuple[str, list[Any]]:
    """Visitors and converting visitors by value, each counted on the first day of the range
    they came (webrollup.visitors_query)."""
    where, extra = _where(key)
    first = int(start // DAY)
    sql = (
        "SELECT value, coalesce(sum(CASE WHEN converted = 0 THEN n END), 0), "
        "coalesce(sum(CASE WHEN converted = 1 THEN n END), 0) FROM "
        f"{TABLES[1]} WHERE {where} AND (prev_day IS NULL OR prev_day < ?) GROUP BY value"
    )
    return sql, [site_id, key[0], first, int(end // DAY), *extra, first]


def merge(sums: Sequence[Sequence[Any]], visitors: Sequence[Sequence[Any]]) -> list[Sums]:
    """Rows as the events query gives them: one per value with a visit."""
    people = {r[0]: (int(r[1]), int(r[2])) for r in visitors}
    out = []
    for r in sums:
        if not r[1]:
            continue
        who, converters = people.get(r[0], (0, 0))
        out.append(
            Sums(r[0], who, int(r[1]), int(r[2]), int(r[3]), float(r[4]), int(r[5]),
                 converters, float(r[6]), int(r[7]))
        )  # fmt: skip
    return out
