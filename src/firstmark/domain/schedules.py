"""Event mode: a printed code that leads somewhere else before, during and after an event, and
is retired to a fallback afterwards.

The schedule is folded into the link when the link cache compiles it (time-window rules ahead
of the link's own rules, retirement as an expiry with a fallback), so the redirect path checks
it with the comparisons it already makes and no database work per scan.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from firstmark.domain.links import Link
from firstmark.domain.rules import Rule
from firstmark.domain.times import iso, parse_time
from firstmark.domain.urls import validate_destination
from firstmark.errors import InvalidField

FIELDS = frozenset(
    {"starts_at", "ends_at", "before_url", "during_url", "after_url", "retire_at", "fallback_url"}
)


@dataclass(frozen=True)
class Schedule:
    link_id: int
    starts_at: datetime
    ends_at: datetime
    before_url: str | None = None
    during_url: str | None = None
    after_url: str | None = None
    retire_at: datetime | None = None
    fallback_url: str | None = None
    summary: Mapping[str, Any] | None = None  # kept once the event is retired
    updated_at: datetime | None = None

    def phase(self, now: datetime) -> str:
        if self.retire_at is not None and now >= self.retire_at:
            return "retired"
        if now < self.starts_at:
            return "before"
        return "during" if now < self.ends_at else "after"


def parse(data: object, link_id: int, now: datetime, allowed_hosts: Collection[str]) -> Schedule:
    if not isinstance(data, Mapping):
        raise InvalidField("body", "the body must be a JSON object", code="invalid_type")
    for key in data:
        if key not in FIELDS:
            raise InvalidField(str(key), f"unknown field {key!r}", code="unknown_field")
    for key in ("starts_at", "ends_at"):
        if data.get(key) in (None, ""):
            raise InvalidField(key, f"{key} is required", code="required")
    starts = parse_time("starts_at", data["starts_at"])
    ends = parse_time("ends_at", data["ends_at"])
    assert starts is not None and ends is not None
    if ends <= starts:
        raise InvalidField("ends_at", "ends_at must be later than starts_at")
    retire = parse_time("retire_at", data.get("retire_at"))
    if retire is not None and retire < ends:
        raise InvalidField("retire_at", "retire_at must not be before ends_at")
    urls: dict[str, str | None] = {}
    for key in ("before_url", "during_url", "after_url", "fallback_url"):
        value = data.get(key)
        urls[key] = (
            None
            if value in (None, "")
            else validate_destination(value, key, allowed_hosts=allowed_hosts)
        )
    if retire is not None and urls["fallback_url"] is None:
        raise InvalidField("fallback_url", "a retired event needs a fallback_url", code="required")
    return Schedule(
        link_id,
        starts,
        ends,
        before_url=urls["before_url"],
        during_url=urls["during_url"],
        after_url=urls["after_url"],
        retire_at=retire,
        fallback_url=urls["fallback_url"],
        updated_at=now,
    )


def apply(link: Link, schedule: Schedule | None) -> Link:
    """The link as the redirect path should see it while the schedule holds."""
    if schedule is None:
        return link
    windows: list[Rule] = []
    if schedule.before_url:
        windows.append(Rule(destination=schedule.before_url, until=schedule.starts_at))
    if schedule.during_url:
        windows.append(
            Rule(destination=schedule.during_url, start=schedule.starts_at, until=schedule.ends_at)
        )
    if schedule.after_url:
        windows.append(Rule(destination=schedule.after_url, start=schedule.ends_at))
    changed = replace(link, rules=(*windows, *link.rules))
    if schedule.retire_at is not None:
        expires = link.expires_at
        changed = replace(
            changed,
            expires_at=schedule.retire_at if expires is None else min(expires, schedule.retire_at),
            fallback_url=schedule.fallback_url or link.fallback_url,
        )
    return changed


def current_url(link: Link, schedule: Schedule | None, now: datetime) -> str:
    """Where the link's printed codes lead at `now` (ignoring per-visitor rules)."""
    if schedule is None:
        return link.destination
    phase = schedule.phase(now)
    url = {
        "before": schedule.before_url,
        "during": schedule.during_url,
        "after": schedule.after_url,
        "retired": schedule.fallback_url,
    }[phase]
    return url or link.destination


def summarise(
    schedule: Schedule,
    hourly: Sequence[tuple[int, int, int]],
    per_placement: Sequence[tuple[str, int, int]],
) -> dict[str, Any]:
    """Scans before, during and after the event from hourly (hour, scans, uniques) rows, and
    each placement's (name, scans, uniques)."""
    phases = {name: {"scans": 0, "unique_scans": 0} for name in ("before", "during", "after")}
    start, end = schedule.starts_at.timestamp(), schedule.ends_at.timestamp()
    for hour, scans, uniques in hourly:
        name = "before" if hour < start else "during" if hour < end else "after"
        phases[name]["scans"] += scans
        phases[name]["unique_scans"] += uniques
    return {
        "starts_at": iso(schedule.starts_at),
        "ends_at": iso(schedule.ends_at),
        "retired_at": iso(schedule.retire_at),
        "scans": sum(p["scans"] for p in phases.values()),
        "unique_scans": sum(p["unique_scans"] for p in phases.values()),
        "phases": phases,
        "placements": [
            {"name": name, "scans": scans, "unique_scans": uniques}
            for name, scans, uniques in per_placement
        ],
    }


def to_json(schedule: Schedule, now: datetime) -> dict[str, Any]:
    return {
        "link_id": schedule.link_id,
        "phase": schedule.phase(now),
        "starts_at": iso(schedule.starts_at),
        "ends_at": iso(schedule.ends_at),
        "before_url": schedule.before_url,
        "during_url": schedule.during_url,
        "after_url": schedule.after_url,
        "retire_at": iso(schedule.retire_at),
        "fallback_url": schedule.fallback_url,
        "summary": schedule.summary,
    }
