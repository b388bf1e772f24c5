"""Rows of the QR tables as domain objects, shared by the engines (both store dates as ISO
text, amounts as decimal text and times as epoch seconds, so one conversion serves both)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from firstmark.domain.linkcheck import Health
from firstmark.domain.placements import Placement
from firstmark.domain.qrrender import Logo
from firstmark.domain.schedules import Schedule
from firstmark.store.rows.values import epoch, from_epoch

PLACEMENT_SELECT = (
    "SELECT p.link_id, p.parent_id, p.name, l.code, l.domain, l.utm_content, p.venue, p.medium, "
    "p.quantity, p.print_cost, p.currency, p.starts_on, p.ends_on, p.created_at "
    "FROM qr_placements p JOIN links l ON l.id = p.link_id"
)
SCHEDULE_COLUMNS = (
    "link_id, starts_at, ends_at, before_url, during_url, after_url, retire_at, fallback_url, "
    "summary, updated_at"
)
LOGO_SELECT = "SELECT id, media_type, data, width, height, sha256 FROM qr_logos"
HEALTH_SELECT = (
    "SELECT link_id, destination, checked_at, ok, status, error, final_url FROM link_health"
)


def placement_from_row(row: Sequence[Any]) -> Placement:
    """A row of PLACEMENT_SELECT."""
    return Placement(
        link_id=row[0],
        parent_id=row[1],
        name=row[2],
        code=row[3],
        domain=row[4],
        utm_content=row[5],
        venue=row[6],
        medium=row[7],
        quantity=row[8],
        print_cost=None if row[9] is None else Decimal(row[9]),
        currency=row[10],
        starts_on=None if row[11] is None else date.fromisoformat(row[11]),
        ends_on=None if row[12] is None else date.fromisoformat(row[12]),
        created_at=from_epoch(row[13]),
    )


def placement_values(link_id: int, p: Placement, created_at: int) -> tuple[Any, ...]:
    """Values for qr_placements (link_id, parent_id, name, venue, medium, quantity,
    print_cost, currency, starts_on, ends_on, created_at)."""
    return (
        link_id, p.parent_id, p.name, p.venue, p.medium, p.quantity,
        None if p.print_cost is None else str(p.print_cost), p.currency,
        None if p.starts_on is None else p.starts_on.isoformat(),
        None if p.ends_on is None else p.ends_on.isoformat(),
        created_at,
    )  # fmt: skip


def schedule_from_row(row: Sequence[Any]) -> Schedule:
    """A row of SCHEDULE_COLUMNS."""
    starts, ends = from_epoch(row[1]), from_epoch(row[2])
    assert starts is not None and ends is not None
    return Schedule(
        link_id=row[0],
        starts_at=starts,
        ends_at=ends,
        before_url=row[3],
        during_url=row[4],
        after_url=row[5],
        retire_at=from_epoch(row[6]),
        fallback_url=row[7],
        summary=None if row[8] is None else json.loads(row[8]),
        updated_at=from_epoch(row[9]),
    )


def schedule_values(schedule: Schedule, now: int) -> tuple[Any, ...]:
    """Values for SCHEDULE_COLUMNS; a missing update time is `now`."""
    return (
        schedule.link_id, epoch(schedule.starts_at), epoch(schedule.ends_at),
        schedule.before_url, schedule.during_url, schedule.after_url,
        epoch(schedule.retire_at), schedule.fallback_url,
        None if schedule.summary is None else json.dumps(schedule.summary),
        epoch(schedule.updated_at) or now,
    )  # fmt: skip


def logo_from_row(row: Sequence[Any]) -> Logo:
    """A row of LOGO_SELECT."""
    return Logo(row[1], bytes(row[2]), row[3], row[4], row[5], id=row[0])


def health_from_row(row: Sequence[Any]) -> Health:
    """A row of HEALTH_SELECT."""
    checked = from_epoch(row[2])
    assert checked is not None
    return Health(row[0], row[1], checked, bool(row[3]), row[4], row[5], row[6])


def health_values(h: Health) -> tuple[Any, ...]:
    """Values for link_health (link_id, checked_at, ok, status, error, final_url,
    destination)."""
    return (h.link_id, epoch(h.checked_at), h.ok, h.status, h.error, h.final_url, h.destination)
