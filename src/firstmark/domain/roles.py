"""Roles: what each dashboard user may do, in the API (through the scopes of their keys) and
in the dashboard (each page names the least role that may open it).

The roles are ordered; each one may do everything the roles below it may:

- viewer: reads the dashboard's pages; no API key, no export;
- analyst: also exports CSV and reads the API (`reports:read`, `links:read`);
- editor: also creates and changes links, QR codes, numbers, costs, goals and funnels;
- admin: also everything else (sites, destinations, webhooks, privacy requests, users, keys);
- owner: an admin who may also make or remove owners; an install always keeps one.
"""

from __future__ import annotations

from firstmark.errors import InvalidField

VIEWER, ANALYST, EDITOR, ADMIN, OWNER = "viewer", "analyst", "editor", "admin", "owner"
ROLES = (VIEWER, ANALYST, EDITOR, ADMIN, OWNER)
_RANK = {role: rank for rank, role in enumerate(ROLES)}

# Each API scope, with the least role whose keys may hold it. A scope missing here is a
# mistake the tests catch (every route's scope must have a role).
SCOPE_ROLES = {
    "reports:read": ANALYST,
    "links:read": ANALYST,
    "links:write": EDITOR,
    "costs:write": EDITOR,
    "goals:write": EDITOR,
    "events:write": EDITOR,
    "admin": ADMIN,
}


def parse_role(value: object, field: str = "role") -> str:
    if not isinstance(value, str) or value.strip().lower() not in _RANK:
        raise InvalidField(field, f"the role must be one of {', '.join(ROLES)}")
    return value.strip().lower()


def at_least(role: str, least: str) -> bool:
    """Whether `role` may do what `least` may (an unknown role may do nothing)."""
    return role in _RANK and _RANK[role] >= _RANK[least]


def may_use(role: str, scope: str) -> bool:
    """Whether a key of a user with `role` may act under `scope`."""
    least = SCOPE_ROLES.get(scope)
    return least is not None and at_least(role, least)


def scopes_for(role: str) -> tuple[str, ...]:
    """The scopes a key of a user with `role` may hold (admins hold `admin`, which is all)."""
    if at_least(role, ADMIN):
        return ("admin",)
    return tuple(scope for scope in SCOPE_ROLES if may_use(role, scope))


def check_key_scopes(role: str, scopes: tuple[str, ...]) -> None:
    """A user's new key never holds more than the user's role allows."""
    beyond = [scope for scope in scopes if not may_use(role, scope)]
    if beyond:
        raise InvalidField(
            "scope",
            f"a {role} cannot hold {', '.join(beyond)}"
            + (f"; allowed: {', '.join(scopes_for(role))}" if scopes_for(role) else ""),
            code="forbidden",
        )


def may_manage(actor: str, current: str, new: str | None = None) -> bool:
    """Whether a user with role `actor` may change (or disable, or remove) a user whose role
    is `current`, giving them `new`: admins manage everyone below owner, owners everyone."""
    if not at_least(actor, ADMIN):
        return False
    if actor == OWNER:
        return True
    return current != OWNER and new != OWNER
