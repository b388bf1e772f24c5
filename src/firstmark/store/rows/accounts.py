"""Rows of API keys and users, shared by the engines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from firstmark.domain.keys import ApiKey
from firstmark.store.rows.values import from_epoch

KEY_COLUMNS = "id, prefix, hash, scopes, name, created_at, last_used_at, revoked"


def key_scopes(raw: str) -> tuple[str, ...]:
    return tuple(s for s in raw.split(" ") if s)


def key_from_row(row: Sequence[Any]) -> ApiKey:
    """A row of KEY_COLUMNS."""
    return ApiKey(
        id=row[0],
        prefix=row[1],
        hash=row[2],
        scopes=key_scopes(row[3]),
        name=row[4],
        created_at=from_epoch(row[5]),
        last_used_at=from_epoch(row[6]),
        revoked=bool(row[7]),
    )
