"""Goals: what counts as a conversion. Macro goals are the business outcomes (an order, a
qualified lead), micro goals the steps towards them (a signup, a download)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firstmark.domain.money import amount, currency
from firstmark.domain.times import iso
from firstmark.errors import InvalidField

KINDS = ("macro", "micro")
NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 365
FIELDS = ("name", "kind", "event_name", "default_value", "currency", "window_days")


@dataclass(frozen=True, slots=True)
class Goal:
    name: str
    kind: str = "macro"
    event_name: str = ""  # the script event that reaches this goal; the name when empty
    default_value: float | None = None
    currency: str | None = None
    window_days: int = DEFAULT_WINDOW_DAYS
    id: int | None = None
    created_at: datetime | None = None

    @property
    def matches(self) -> str:
        return self.event_name or self.name


def name(value: object, field: str = "name") -> str:
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise InvalidField(field, f"{field} must be 1-64 letters, digits or _ . : -")
    return value


def new_goal(data: object, now: datetime) -> Goal:
    if not isinstance(data, dict):
        raise InvalidField("body", "send a JSON object", code="invalid_type")
    unknown = set(data) - set(FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidField(field, f"unknown field {field!r}", code="unknown_field")
    kind = data.get("kind", "macro")
    if kind not in KINDS:
        raise InvalidField("kind", "kind must be macro or micro")
    window = data.get("window_days", DEFAULT_WINDOW_DAYS)
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= 365:
        raise InvalidField("window_days", f"window_days must be a whole number 1-{MAX_WINDOW_DAYS}")
    value = amount(data.get("default_value"), "default_value")
    money = currency(data.get("currency"))
    if value is not None and money is None:
        raise InvalidField("currency", "a default_value needs a currency", code="required")
    event_name = data.get("event_name")
    return Goal(
        name=name(data.get("name")),
        kind=kind,
        event_name="" if event_name is None else name(event_name, "event_name"),
        default_value=value,
        currency=money,
        window_days=window,
        created_at=now,
    )


def to_json(goal: Goal) -> dict[str, Any]:
    return {
        "id": goal.id,
        "name": goal.name,
        "kind": goal.kind,
        "event_name": goal.matches,
        "default_value": goal.default_value,
        "currency": goal.currency,
        "window_days": goal.window_days,
        "created_at": iso(goal.created_at),
    }
