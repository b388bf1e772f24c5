"""Rows of visits as domain objects and back, shared by the engines (sql/visits.py)."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from firstmark.domain.visits import Visit

VISIT_COLUMNS = (
    "site_id", "key", "started", "last_ts", "visitor_day_hash", "visitor_id", "entry_path",
    "exit_path", "pageviews", "events", "source", "medium", "campaign", "term", "content",
    "referrer_host", "click_ids", "link_id", "channel", "country", "device_type", "browser", "os",
    "is_bot", "conversions", "revenue",
)  # fmt: skip
# What a later event of the same visit changes.
VISIT_UPDATES = (
    "last_ts", "exit_path", "pageviews", "events", "visitor_id", "conversions", "revenue",
)  # fmt: skip
UPSERT_VISIT = (
    f"INSERT INTO visits ({', '.join(VISIT_COLUMNS)}, day) "
    f"VALUES ({', '.join('?' * (len(VISIT_COLUMNS) + 1))}) "
    "ON CONFLICT (site_id, key, started) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in VISIT_UPDATES)
)
VISIT_SELECT = f"SELECT id, {', '.join(VISIT_COLUMNS)} FROM visits"


_VISIT_VALUES = attrgetter(*VISIT_COLUMNS, "day")  # one C call per row


def visit_params(visit: Visit) -> tuple[Any, ...]:
    values: tuple[Any, ...] = _VISIT_VALUES(visit)
    return values


def visit_from_row(row: Sequence[Any]) -> Visit:
    """Row: id, then VISIT_COLUMNS."""
    values = dict(zip(VISIT_COLUMNS, row[1:], strict=True))
    values["is_bot"] = bool(values["is_bot"])
    values["revenue"] = float(values["revenue"])
    return Visit(id=int(row[0]), **values)


def latest_by_key(visits: Sequence[Visit]) -> list[Visit]:
    """The latest visit of each (site, key)."""
    found: dict[tuple[int, str], Visit] = {}
    for v in visits:
        held = found.get((v.site_id, v.key))
        if held is None or v.started > held.started:
            found[(v.site_id, v.key)] = v
    return list(found.values())
