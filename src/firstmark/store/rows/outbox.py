"""Rows of destinations, the outbox and the delivery log as domain objects and back, shared
by the engines (sql/outbox.py, and the claims in sqlite/outbox.py and postgres/outbox.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import (
    STATUSES,
    Attempt,
    Delivery,
    Destination,
    OutboxItem,
    OutboxTarget,
)
from firstmark.errors import Conflict
from firstmark.store.rows.events import CONVERSION_COLUMNS, conversion_from_row
from firstmark.store.rows.values import from_epoch

DESTINATION_COLUMNS = (
    "id, platform, name, credentials, credential_fields, goals, endpoint_base, test_mode, "
    "options, enabled, created_at, updated_at, auth_status, auth_error"
)
# The columns `destination_params` fills, in its order.
DESTINATION_WRITE = (
    "platform", "name", "credentials", "credential_fields", "goals", "endpoint_base",
    "test_mode", "options", "enabled",
)  # fmt: skip
ITEM_SELECT = (
    "SELECT o.id, o.destination_id, o.event_name, o.attempts, o.created_at, o.click_ids, "
    "o.sealed_client, c.id, g.name, "
    + ", ".join(f"c.{c}" for c in CONVERSION_COLUMNS)
    + " FROM outbox o JOIN conversions c ON c.id = o.conversion_id "
    "JOIN goals g ON g.id = c.goal_id"
)
DELIVERY_SELECT = (
    "SELECT d.id, d.outbox_id, d.destination_id, d.ts, d.status, d.http_status, "
    "d.latency_ms, d.error, c.event_id, d.attempt, d.api_version, d.consent, d.identifiers, "
    "d.request_id, d.diagnostics FROM deliveries d "
    "JOIN outbox o ON o.id = d.outbox_id JOIN conversions c ON c.id = o.conversion_id"
)


def name_taken(dest: Destination) -> Conflict:
    return Conflict(f"a destination named {dest.name!r} exists", field="name")


def destination_from_row(row: Sequence[Any]) -> Destination:
    return Destination(
        id=row[0],
        platform=row[1],
        name=row[2],
        credentials_sealed=row[3],
        credential_fields=tuple(json.loads(row[4])),
        goals=json.loads(row[5]),
        endpoint_base=row[6],
        test_mode=bool(row[7]),
        options=json.loads(row[8]),
        enabled=bool(row[9]),
        created_at=from_epoch(row[10]),
        updated_at=from_epoch(row[11]),
        auth_status=row[12],
        auth_error=row[13],
    )


def destination_params(dest: Destination) -> tuple[Any, ...]:
    """Values for DESTINATION_WRITE."""
    return (
        dest.platform,
        dest.name,
        dest.credentials_sealed,
        json.dumps(list(dest.credential_fields)),
        json.dumps(dict(dest.goals), sort_keys=True),
        dest.endpoint_base,
        dest.test_mode,
        json.dumps(dict(dest.options), sort_keys=True),
        dest.enabled,
    )


def item_from_row(row: Sequence[Any]) -> OutboxItem:
    return OutboxItem(
        id=row[0],
        destination_id=row[1],
        event_name=row[2],
        attempts=row[3],
        created_at=row[4],
        click_ids=json.loads(row[5]),
        sealed_client=row[6],
        conversion=conversion_from_row(row[7:]),
    )


def delivery_from_row(row: Sequence[Any]) -> Delivery:
    return Delivery(
        id=row[0], outbox_id=row[1], destination_id=row[2], ts=row[3], status=row[4],
        http_status=row[5], latency_ms=row[6], error=row[7], event_id=row[8], attempt=row[9],
        api_version=row[10], consent=row[11],
        identifiers=tuple(n for n in (row[12] or "").split(",") if n),
        request_id=row[13], diagnostics=row[14],
    )  # fmt: skip


def audit_params(attempt: Attempt) -> tuple[Any, Any, Any, Any]:
    """(api_version, consent, identifiers, request_id) of a delivery log line. Identifier
    names are stored between commas (",em,fbc,") so one LIKE finds a name."""
    audit = attempt.audit
    if audit is None:
        return (None, None, None, None)
    names = f",{','.join(audit.identifiers)}," if audit.identifiers else None
    return (audit.api_version, audit.consent, names, audit.request_id)


def paired(
    conversions: Sequence[Conversion], outbox: Sequence[Sequence[OutboxTarget]]
) -> Iterator[tuple[Conversion, Sequence[OutboxTarget]]]:
    """Each conversion with the outbox rows its caller gave for it (none when `outbox` is
    empty); a list of another length is refused."""
    if not outbox:
        return ((conv, ()) for conv in conversions)
    if len(outbox) != len(conversions):
        raise ValueError(f"outbox rows for {len(outbox)} of {len(conversions)} conversions")
    return zip(conversions, outbox, strict=True)


def click_ids_json(conv: Conversion) -> str:
    return json.dumps(dict(conv.click_ids), sort_keys=True)


def counts_from_rows(rows: Iterable[Sequence[Any]]) -> dict[str, int]:
    """Every status, zero when no row has it."""
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({r[0]: int(r[1]) for r in rows})
    return counts
