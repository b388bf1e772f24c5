"""Rows of the event tables as domain objects and back, shared by the engines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from firstmark.domain.attribution import Step
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.events import Event, Touch
from firstmark.domain.goals import Goal
from firstmark.domain.reports import Journey
from firstmark.store.base import from_epoch, money

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
                money(value or 0),
                currency,
                int(window),
                by_conversion.get(cid, []),
                credited,
            )
        )
    return out
