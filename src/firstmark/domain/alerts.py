"""Alerts: what is worth telling someone about, judged from figures the store already holds.

Each check is a pure function from figures to the alerts that stand now. An alert names its
kind and its subject ("destination:3", "link:12", "site:2", "outbox"). While a check keeps
finding the same kind and subject, that is one occurrence, told once; when the check no
longer finds it the occurrence is resolved, and should it come back, that is a new one.
Messages carry ids, codes and counts, never personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from firstmark.domain.destinations import Destination
from firstmark.domain.linkcheck import Health
from firstmark.domain.times import iso, iso_ts

NEEDS_REAUTH = "destination.needs_reauth"
DEAD_LETTERS = "forwarding.dead_letters"
LINK_FAILING = "link.failing"
TRAFFIC_STOPPED = "traffic.stopped"
KPI_CHANGED = "kpi.changed"  # judged by domain/kpialerts.py
KINDS = (NEEDS_REAUTH, DEAD_LETTERS, LINK_FAILING, TRAFFIC_STOPPED, KPI_CHANGED)
KIND_LABELS = {
    NEEDS_REAUTH: "Destination needs re-authorisation",
    DEAD_LETTERS: "Dead-letter spike",
    LINK_FAILING: "Link destination failing",
    TRAFFIC_STOPPED: "Traffic stopped",
    KPI_CHANGED: "KPI changed",
}

DEAD_LETTER_WINDOW_S = 3600.0  # dead-letter spikes count the last hour
QUIET_S = 24 * 3600.0  # traffic stopped: nothing in the last 24 hours...
STEADY_DAYS = 7  # ...after traffic on every one of the 7 days before


@dataclass(frozen=True, slots=True)
class Alert:
    """What a check found: `message` is one line for people, `detail` the figures behind it."""

    kind: str
    subject: str
    message: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Raised:
    """A stored occurrence: raised once, resolved when its check no longer finds it."""

    id: int
    kind: str
    subject: str
    message: str
    detail: Mapping[str, Any]
    raised_at: float
    resolved_at: float | None = None

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def needs_reauth(destinations: Iterable[Destination]) -> list[Alert]:
    """Each enabled destination whose platform refused its credentials: forwarding waits."""
    return [
        Alert(
            NEEDS_REAUTH,
            f"destination:{d.id}",
            f"Destination {d.name!r} ({d.platform}) needs to be connected again; "
            "its conversions wait until it is.",
            {"destination": {"id": d.id, "platform": d.platform, "name": d.name}},
        )
        for d in destinations
        if d.enabled and d.auth_status == "needs_reauth" and d.id is not None
    ]


def dead_letters(dead: int, threshold: int) -> list[Alert]:
    """A spike when more than `threshold` forwarding attempts ended dead in the last hour."""
    if dead <= threshold:
        return []
    return [
        Alert(
            DEAD_LETTERS,
            "outbox",
            f"{dead} conversions could not be forwarded in the last hour (more than {threshold}); "
            "they wait in the dead letters for a replay.",
            {"dead": dead, "threshold": threshold, "window_seconds": int(DEAD_LETTER_WINDOW_S)},
        )
    ]


def failing_links(codes: Mapping[int, str], health: Mapping[int, Health]) -> list[Alert]:
    """Each link (id: code) whose last health check failed."""
    out = []
    for link_id, code in sorted(codes.items()):
        found = health.get(link_id)
        if found is None or found.ok:
            continue
        why = found.error or (f"HTTP {found.status}" if found.status else "no answer")
        out.append(
            Alert(
                LINK_FAILING,
                f"link:{link_id}",
                f"Link {code!r} leads to a failing page ({why}).",
                {
                    "link": {"id": link_id, "code": code},
                    "destination": found.destination,
                    "status": found.status,
                    "error": found.error,
                    "checked_at": iso(found.checked_at),
                },
            )
        )
    return out


def stopped(days: Sequence[int], last_24h: int) -> bool:
    """Traffic every one of the `STEADY_DAYS` days before, none in the last 24 hours."""
    return len(days) >= STEADY_DAYS and all(n > 0 for n in days[-STEADY_DAYS:]) and last_24h == 0


@dataclass(frozen=True, slots=True)
class Traffic:
    """A link's or site's human traffic: `days` the daily counts before the last 24 hours
    (oldest first), `last_24h` the count since."""

    kind: str  # "link" or "site"
    id: int
    name: str  # the link's code, the site's domain
    days: Sequence[int]
    last_24h: int


def traffic_stopped(subjects: Iterable[Traffic]) -> list[Alert]:
    """Each link or site whose steady traffic stopped. The caller picks the subjects (every
    link and site of the install today; a workspace's own later)."""
    out = []
    for t in subjects:
        if not stopped(t.days, t.last_24h):
            continue
        what = "Link" if t.kind == "link" else "Site"
        out.append(
            Alert(
                TRAFFIC_STOPPED,
                f"{t.kind}:{t.id}",
                f"{what} {t.name!r} had traffic every day of the week before and none in the "
                "last 24 hours.",
                {t.kind: {"id": t.id, "name": t.name}, "daily": list(t.days[-STEADY_DAYS:])},
            )
        )
    return out


def opened_and_resolved(
    open_subjects: Iterable[str], found: Iterable[Alert]
) -> tuple[list[Alert], list[str]]:
    """For one kind: (the alerts not open yet, the open subjects no longer found)."""
    current = set(open_subjects)
    new = [a for a in found if a.subject not in current]
    still = {a.subject for a in found}
    return new, sorted(current - still)


def to_json(alert: Raised) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "subject": alert.subject,
        "message": alert.message,
        "detail": dict(alert.detail),
        "raised_at": iso_ts(alert.raised_at),
        "resolved_at": iso_ts(alert.resolved_at) if alert.resolved_at is not None else None,
    }
