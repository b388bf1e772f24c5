"""The audit log of administrative actions: who did what to which object, and when.

An entry names its actor (a dashboard user as `user:<name>`, an API key as `key:<prefix>`,
the command line as `cli`, the server's own jobs as `system`), never a visitor: a privacy
request is logged with the kind of identifier it named, never the value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from firstmark.errors import InvalidField

OBJECT_KINDS = (
    "link", "destination", "key", "user", "retention", "privacy", "webhook", "deal", "cost",
)  # fmt: skip
MAX_DETAIL = 2048
PAGE_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Entry:
    actor: str
    action: str  # create, update, archive, delete, revoke, erase, export, ...
    object_kind: str
    object_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    ts: float = 0.0
    id: int | None = None

    def detail_json(self) -> str:
        """The detail as stored: small JSON; cut to its keys when too long."""
        text = json.dumps(dict(self.detail), sort_keys=True, default=str)
        if len(text) > MAX_DETAIL:
            text = json.dumps({"fields": sorted(self.detail)[:50]})
        return text

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "ts": datetime.fromtimestamp(self.ts, UTC).isoformat().replace("+00:00", "Z"),
            "actor": self.actor,
            "action": self.action,
            "object_kind": self.object_kind,
            "object_id": self.object_id,
            "detail": dict(self.detail),
        }


@dataclass(frozen=True, slots=True)
class Query:
    actor: str | None = None
    action: str | None = None
    object_kind: str | None = None
    object_id: str | None = None
    start: float | None = None
    end: float | None = None
    limit: int = 50
    offset: int = 0


def user_actor(name: str, user_id: int | None = None) -> str:
    """A user as the audit log names them: by name, or by id when the name is an e-mail
    address (single sign-on may name users so), which the log never holds."""
    if "@" in name and user_id is not None:
        return f"user#{user_id}"
    return f"user:{name}"


def key_actor(prefix: str) -> str:
    return f"key:{prefix}"


CLI_ACTOR = "cli"


def parse_query(params: Mapping[str, str], now: datetime | None = None) -> Query:
    """?actor=&action=&object_kind=&object_id=&from=&to=&limit=&offset= (dates YYYY-MM-DD,
    `to` inclusive)."""
    text: dict[str, str | None] = {}
    for name in ("actor", "action", "object_kind", "object_id"):
        value = params.get(name, "").strip()
        if len(value) > 128:
            raise InvalidField(name, f"{name} is longer than 128 characters")
        text[name] = value or None
    if text["object_kind"] is not None and text["object_kind"] not in OBJECT_KINDS:
        raise InvalidField("object_kind", f"object_kind must be one of {', '.join(OBJECT_KINDS)}")
    bounds: dict[str, float | None] = {}
    for name, extra in (("from", 0), ("to", 86400)):
        raw = params.get(name, "").strip()
        if not raw:
            bounds[name] = None
            continue
        try:
            day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise InvalidField(name, f"{name} must be a date, YYYY-MM-DD") from None
        bounds[name] = day.timestamp() + extra
    numbers: dict[str, int] = {}
    for name, default, top in (("limit", 50, PAGE_LIMIT), ("offset", 0, 10**9)):
        raw = params.get(name, "").strip()
        if not raw:
            numbers[name] = default
            continue
        if not raw.isdigit() or int(raw) > top or (name == "limit" and int(raw) < 1):
            raise InvalidField(name, f"{name} must be a whole number, at most {top}")
        numbers[name] = int(raw)
    return Query(
        actor=text["actor"],
        action=text["action"],
        object_kind=text["object_kind"],
        object_id=text["object_id"],
        start=bounds["from"],
        end=bounds["to"],
        limit=numbers["limit"],
        offset=numbers["offset"],
    )
