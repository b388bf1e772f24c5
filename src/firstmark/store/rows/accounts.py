"""Rows of API keys, users and invitations, shared by the engines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from firstmark.domain.keys import ApiKey
from firstmark.store.protocol import Invitation, User
from firstmark.store.rows.values import from_epoch

KEY_COLUMNS = "id, prefix, hash, scopes, name, created_at, last_used_at, revoked, user_id"
# A key with its user's role, and whether that user is still there and enabled.
KEY_SELECT = (
    "SELECT k.id, k.prefix, k.hash, k.scopes, k.name, k.created_at, k.last_used_at, k.revoked, "
    "k.user_id, u.role, u.id IS NULL OR u.disabled_at IS NOT NULL "
    "FROM api_keys k LEFT JOIN users u ON u.id = k.user_id"
)
USER_COLUMNS = "id, username, password_hash, role, disabled_at, created_at"
INVITATION_COLUMNS = "id, role, created_by, created_at, expires_at, used_at, used_by"


def key_scopes(raw: str) -> tuple[str, ...]:
    return tuple(s for s in raw.split(" ") if s)


def key_from_row(row: Sequence[Any]) -> ApiKey:
    """A row of KEY_COLUMNS, or of KEY_SELECT (which adds the user's role and standing)."""
    user_id = row[8]
    gone = user_id is not None and len(row) > 9 and bool(row[10])
    return ApiKey(
        id=row[0],
        prefix=row[1],
        hash=row[2],
        scopes=key_scopes(row[3]),
        name=row[4],
        created_at=from_epoch(row[5]),
        last_used_at=from_epoch(row[6]),
        # A disabled or removed user's keys open nothing, whatever their own flag says.
        revoked=bool(row[7]) or gone,
        user_id=user_id,
        role=row[9] if len(row) > 9 and user_id is not None else None,
    )


def user_from_row(row: Sequence[Any]) -> User:
    """A row of USER_COLUMNS (in the users table, or `u.`-prefixed in a join)."""
    return User(
        id=int(row[0]),
        username=row[1],
        password_hash=row[2],
        role=row[3],
        disabled=row[4] is not None,
        created_at=None if row[5] is None else int(row[5]),
    )


def invitation_from_row(row: Sequence[Any]) -> Invitation:
    return Invitation(
        id=int(row[0]),
        role=row[1],
        created_by=row[2],
        created_at=int(row[3]),
        expires_at=int(row[4]),
        used_at=None if row[5] is None else int(row[5]),
        used_by=row[6],
    )
