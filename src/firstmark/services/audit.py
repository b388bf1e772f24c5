"""The audit log: record an administrative action, list them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firstmark.domain import audit
from firstmark.store import Store


async def record(
    store: Store,
    actor: str,
    action: str,
    object_kind: str,
    object_id: object = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """One entry: who (`user:<name>`, `key:<prefix>`, `cli`) did what to which object."""
    await store.insert_audit(
        audit.Entry(
            actor,
            action,
            object_kind,
            None if object_id is None else str(object_id),
            dict(detail or {}),
        )
    )


async def listing(store: Store, params: Mapping[str, str]) -> dict[str, Any]:
    query = audit.parse_query(params)
    entries, total = await store.list_audit(query)
    return {
        "items": [e.to_json() for e in entries],
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
    }


def fields(data: object) -> dict[str, Any]:
    """The names of the fields a change sent (never their values: they may be secrets)."""
    return {"fields": sorted(str(k) for k in data)[:50]} if isinstance(data, Mapping) else {}
