"""The forwarding audit, summed up: each destination's health (last success, error rate)
and daily match quality (which share of its events carried each identifier), with hints in
words such as "38 % of meta events had no fbc". Pure: the store hands over counted rows of
the delivery log, which holds identifier names only, never values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from firstmark.domain.times import iso

# The identifiers that decide matching on each platform, in the order hints name them.
KEY_IDENTIFIERS: dict[str, tuple[str, ...]] = {
    "meta": ("fbc", "em", "client_ip", "user_agent"),
    "google_ads": ("gclid", "em"),
    "ga4": ("ga_client_id", "em"),
    "tiktok": ("ttclid", "em", "client_ip"),
    "linkedin": ("li_fat_id", "em"),
    "microsoft": ("msclkid", "em"),
    "pinterest": ("epik", "em", "client_ip"),
    "snapchat": ("ScCid", "em", "client_ip"),
    "reddit": ("rdt_cid", "em", "client_ip"),
}
# An identifier the platform gets from either of these names (Meta builds fbc from fbclid;
# Google takes a braid where there is no gclid).
COUNTS_AS: dict[str, tuple[str, ...]] = {
    "fbc": ("fbc", "fbclid"),
    "gclid": ("gclid", "gbraid", "wbraid"),
}
HINT_AT = 0.2  # a hint when at least this share of events lacks a key identifier
MIN_EVENTS = 20  # and only over enough events to mean something


@dataclass(slots=True)
class DayQuality:
    day: date
    attempts: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    with_identifier: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "attempts": self.attempts,
            "sent": self.by_status.get("sent", 0),
            "retry": self.by_status.get("retry", 0),
            "dead": self.by_status.get("dead", 0),
            "identifiers": {
                name: round(count / self.attempts, 3) if self.attempts else 0.0
                for name, count in self.with_identifier.items()
            },
        }


def names_of(stored: str) -> set[str]:
    """The identifier names of a delivery log line (",em,fbc," as stored)."""
    return {name for name in stored.split(",") if name}


def has(names: set[str], identifier: str) -> bool:
    return any(n in names for n in COUNTS_AS.get(identifier, (identifier,)))


def quality(platform: str, rows: Iterable[tuple[int, str, str, int]]) -> list[DayQuality]:
    """Per day (oldest first) from (epoch day, status, identifier names, attempts) rows."""
    keys = KEY_IDENTIFIERS.get(platform, ("em",))
    days: dict[int, DayQuality] = {}
    for day_number, status, stored, count in rows:
        day = days.get(day_number)
        if day is None:
            day = days[day_number] = DayQuality(
                datetime.fromtimestamp(day_number * 86400, UTC).date(),
                with_identifier=dict.fromkeys(keys, 0),
            )
        day.attempts += count
        day.by_status[status] = day.by_status.get(status, 0) + count
        names = names_of(stored)
        for key in keys:
            if has(names, key):
                day.with_identifier[key] += count
    return [days[d] for d in sorted(days)]


def hints(platform: str, days: Sequence[DayQuality]) -> list[str]:
    """What to look at, over the whole period: key identifiers missing from many events."""
    total = sum(d.attempts for d in days)
    if total < MIN_EVENTS:
        return []
    out = []
    for key in KEY_IDENTIFIERS.get(platform, ("em",)):
        present = sum(d.with_identifier.get(key, 0) for d in days)
        missing = 1 - present / total
        if missing >= HINT_AT:
            out.append(f"{round(missing * 100)} % of {platform} events had no {key}")
    return out


@dataclass(frozen=True, slots=True)
class Health:
    """A destination's recent deliveries: counts by status and the last success."""

    attempts: int
    sent: int
    retry: int
    dead: int
    last_success: float | None

    @property
    def error_rate(self) -> float:
        return (self.retry + self.dead) / self.attempts if self.attempts else 0.0

    def to_json(self) -> dict[str, Any]:
        last = self.last_success
        return {
            "attempts": self.attempts,
            "sent": self.sent,
            "retry": self.retry,
            "dead": self.dead,
            "error_rate": round(self.error_rate, 3),
            "last_success": None if last is None else iso(datetime.fromtimestamp(last, UTC)),
        }


def health(rows: Iterable[tuple[str, int, float | None]]) -> Health:
    """From (status, attempts, last ts) rows of one destination."""
    counts: dict[str, int] = {}
    last: float | None = None
    for status, count, ts in rows:
        counts[status] = counts.get(status, 0) + count
        if status == "sent" and ts is not None:
            last = ts if last is None else max(last, ts)
    return Health(
        sum(counts.values()), counts.get("sent", 0), counts.get("retry", 0),
        counts.get("dead", 0), last,
    )  # fmt: skip


def health_by_destination(
    rows: Iterable[tuple[int, str, int, float | None]],
) -> Mapping[int, Health]:
    """From (destination id, status, attempts, last ts) rows."""
    grouped: dict[int, list[tuple[str, int, float | None]]] = {}
    for dest_id, status, count, ts in rows:
        grouped.setdefault(dest_id, []).append((status, count, ts))
    return {dest_id: health(group) for dest_id, group in grouped.items()}
