"""API keys: `fm_<prefix>_<secret>`. Only the prefix and a SHA-256 of the secret are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from firstmark.domain.links import BASE62
from firstmark.domain.roles import may_use
from firstmark.errors import InvalidField

SCOPES = (
    "links:read",
    "links:write",
    "reports:read",
    "events:write",
    "costs:write",
    "goals:write",
    "admin",
)


@dataclass(frozen=True, slots=True)
class ApiKey:
    prefix: str
    hash: str
    scopes: tuple[str, ...]
    name: str = ""
    id: int | None = None
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked: bool = False
    # A user's key: its user, and that user's role when the key was read (None for the
    # install's keys, made with the CLI, which no role bounds).
    user_id: int | None = None
    role: str | None = None

    def allows(self, scope: str) -> bool:
        """Whether the key may act under `scope`: its own scopes, and its user's role today
        (a user moved to a lesser role keeps keys that can do no more than the role)."""
        if self.role is not None and not may_use(self.role, scope):
            return False
        return "admin" in self.scopes or scope in self.scopes


def _random(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(values: Iterable[str]) -> tuple[str, ...]:
    scopes: list[str] = []
    for raw in values:
        for scope in raw.split(","):
            scope = scope.strip()
            if not scope:
                continue
            if scope not in SCOPES:
                raise InvalidField("scope", f"unknown scope {scope!r}; use {', '.join(SCOPES)}")
            if scope not in scopes:
                scopes.append(scope)
    if not scopes:
        raise InvalidField("scope", "a key needs at least one scope", code="required")
    return tuple(scopes)


def new_key(
    scopes: tuple[str, ...], name: str = "", user_id: int | None = None
) -> tuple[str, ApiKey]:
    """(the key to show once, what to store)."""
    prefix, secret = _random(8), _random(32)
    return f"fm_{prefix}_{secret}", ApiKey(
        prefix=prefix, hash=_digest(secret), scopes=scopes, name=name, user_id=user_id
    )


def split_key(presented: str) -> tuple[str, str] | None:
    parts = presented.split("_")
    if len(parts) != 3 or parts[0] != "fm" or len(parts[1]) != 8 or not parts[2]:
        return None
    return parts[1], parts[2]


def matches(key: ApiKey, secret: str) -> bool:
    return hmac.compare_digest(key.hash, _digest(secret))
