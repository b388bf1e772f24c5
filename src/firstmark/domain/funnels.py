"""Funnels: ordered steps (page path patterns or event names) and how many visitors reach each.

A funnel has 2-8 steps. `within` says where the steps must happen: in one visit ("visit"), or
within `days` days of the first step for visitors who gave analytics consent ("days"; visitors
without it can only be followed inside one visit, docs/privacy.md). A page pattern matches a path
exactly, or with `*` standing for any characters (`/blog/*`). Reports are aggregate only:
visitors per step, the conversion from the first step and the drop-off from the one before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from firstmark.domain.times import iso
from firstmark.errors import InvalidField

MIN_STEPS, MAX_STEPS = 2, 8
MAX_DAYS = 90
MAX_NAME = 100
MAX_PATTERN = 256
EVENT_NAME = re.compile(r"[A-Za-z0-9_.:/ -]{1,64}")
WITHIN = ("visit", "days")


@dataclass(frozen=True, slots=True)
class Step:
    kind: str  # "page" or "event"
    match: str

    def to_json(self) -> dict[str, str]:
        return {self.kind: self.match}


@dataclass(frozen=True, slots=True)
class Funnel:
    site_id: int
    name: str
    steps: tuple[Step, ...]
    within: str = "visit"
    days: int = 1
    id: int | None = None
    created_at: datetime | None = None


def _step(raw: object, index: int) -> Step:
    where = f"steps[{index}]"
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise InvalidField(where, 'a step is {"page": "/path"} or {"event": "name"}')
    [(kind, match)] = raw.items()
    if kind not in ("page", "event"):
        raise InvalidField(where, 'a step is {"page": "/path"} or {"event": "name"}')
    if not isinstance(match, str):
        raise InvalidField(f"{where}.{kind}", f"{kind} must be text", code="invalid_type")
    if kind == "page":
        if not match.startswith("/") or len(match) > MAX_PATTERN:
            raise InvalidField(
                f"{where}.page", f"page must be a path starting with / (at most {MAX_PATTERN})"
            )
    elif not EVENT_NAME.fullmatch(match):
        raise InvalidField(f"{where}.event", "event must be 1-64 letters, digits, spaces, _.:/-")
    return Step(kind, match)


def parse(data: object) -> Funnel:
    """A funnel from `POST /api/v1/funnels`, checked field by field."""
    if not isinstance(data, Mapping):
        raise InvalidField("body", "send one JSON object", code="invalid_type")
    unknown = set(data) - {"site", "name", "steps", "within", "days"}
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidField(name, f"unknown field {name!r}", code="unknown_field")
    site = data.get("site")
    if not isinstance(site, int) or isinstance(site, bool) or site < 1:
        raise InvalidField("site", "site must be a site id", code="required")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidField("name", f"name must be text of 1-{MAX_NAME} characters")
    steps = data.get("steps")
    if not isinstance(steps, list) or not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise InvalidField("steps", f"steps must be a list of {MIN_STEPS}-{MAX_STEPS} steps")
    within = data.get("within", "visit")
    if within not in WITHIN:
        raise InvalidField("within", "within must be visit or days")
    days = data.get("days", 1 if within == "visit" else 7)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise InvalidField("days", f"days must be a whole number of days, 1-{MAX_DAYS}")
    if within == "visit" and "days" in data:
        raise InvalidField("days", "days applies to within=days only")
    return Funnel(site, name.strip(), tuple(_step(s, i) for i, s in enumerate(steps)), within,
                  days)  # fmt: skip


def to_json(funnel: Funnel) -> dict[str, Any]:
    return {
        "id": funnel.id,
        "site": funnel.site_id,
        "name": funnel.name,
        "steps": [s.to_json() for s in funnel.steps],
        "within": funnel.within,
        "days": funnel.days if funnel.within == "days" else None,
        "created_at": iso(funnel.created_at),
    }


def steps_to_text(steps: Sequence[Step]) -> str:
    return json.dumps([s.to_json() for s in steps], separators=(",", ":"))


def steps_from_text(text: str) -> tuple[Step, ...]:
    return tuple(_step(s, i) for i, s in enumerate(json.loads(text)))


@lru_cache(maxsize=256)
def _pattern(match: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in match.split("*")))


def like_pattern(match: str) -> str:
    """The page pattern as an SQL LIKE pattern with \\ as the escape character."""
    escaped = match.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def matches(step: Step, kind: str, path: str, name: str) -> bool:
    if step.kind == "page":
        return kind == "pageview" and bool(_pattern(step.match).fullmatch(path))
    return kind != "pageview" and name == step.match


@dataclass(frozen=True, slots=True)
class StepEvent:
    """One candidate event as the store hands it over: its visit, its visitor (the consented
    id, else the day's hash) and whether that visitor gave consent."""

    visit: tuple[str, float]
    visitor: str
    consented: bool
    ts: float
    kind: str
    path: str
    name: str


def _reached(steps: Sequence[Step], hits: Sequence[StepEvent], window_s: float | None) -> int:
    """How many steps, in order, a sequence of hits (time order) reaches; with a window, the
    best start among the first step's occurrences."""
    best = 0
    starts = [i for i, h in enumerate(hits) if matches(steps[0], h.kind, h.path, h.name)]
    for start in starts:
        done, first_ts = 1, hits[start].ts
        for hit in hits[start + 1 :]:
            if done == len(steps):
                break
            if window_s is not None and hit.ts - first_ts > window_s:
                break
            if matches(steps[done], hit.kind, hit.path, hit.name):
                done += 1
        best = max(best, done)
        if best == len(steps) or window_s is None:
            break  # within one visit the earliest start reaches the furthest
    return best


def reached_by_visitor(funnel: Funnel, hits: Iterable[StepEvent]) -> dict[str, tuple[int, bool]]:
    """How many steps each visitor (the consented id, else the day's hash) reached, and
    whether that visitor gave consent."""
    groups: dict[Any, list[StepEvent]] = {}
    owners: dict[Any, tuple[str, bool]] = {}
    for hit in sorted(hits, key=lambda h: h.ts):
        if funnel.within == "days" and hit.consented:
            group: Any = ("visitor", hit.visitor)
        else:
            group = ("visit", hit.visit)
        groups.setdefault(group, []).append(hit)
        owners[group] = (hit.visitor, hit.consented)
    best: dict[str, tuple[int, bool]] = {}
    window = funnel.days * 86400.0 if funnel.within == "days" else None
    for group, seq in groups.items():
        reached = _reached(funnel.steps, seq, window if group[0] == "visitor" else None)
        owner, consented = owners[group]
        best[owner] = (max(best.get(owner, (0, consented))[0], reached), consented)
    return best


def report(funnel: Funnel, hits: Iterable[StepEvent]) -> list[dict[str, Any]]:
    """Visitors per step, the conversion from the first step (%) and the drop-off from the
    step before (visitors and %)."""
    best = reached_by_visitor(funnel, hits)
    counts = [sum(1 for r, _ in best.values() if r > i) for i in range(len(funnel.steps))]
    return report_from_counts(funnel, counts)


def report_from_counts(funnel: Funnel, counts: Sequence[int]) -> list[dict[str, Any]]:
    """The report's rows from the visitors who reached each step."""
    out = []
    for i, (step, count) in enumerate(zip(funnel.steps, counts, strict=True)):
        before = counts[i - 1] if i else count
        out.append(
            {
                "step": i + 1,
                **step.to_json(),
                "visitors": count,
                "conversion_rate": _pct(count, counts[0]),
                "drop_off": before - count,
                "drop_off_rate": _pct(before - count, before) if i else 0.0,
            }
        )
    return out


def _pct(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None
