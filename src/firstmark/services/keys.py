"""API keys: what the dashboard's key page, `firstmark init` and `firstmark keys` all do.

The install's keys (made with the CLI) belong to no user; a key made in the dashboard belongs
to its maker and never holds more than the maker's role allows (domain/roles.py). Admins see
and revoke every key; anyone else only their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from firstmark.domain.keys import SCOPES, ApiKey, new_key, parse_scopes
from firstmark.domain.roles import ADMIN, at_least, scopes_for
from firstmark.errors import InvalidField
from firstmark.services import users as users_service
from firstmark.store import Store, User

MAX_NAME = 100


async def create(store: Store, scopes: Sequence[str], name: str) -> tuple[str, ApiKey]:
    """An install key with `scopes`, stored hashed; the full key is in the first element and
    is shown once, never stored."""
    shown, key = new_key(tuple(scopes), name=name)
    return shown, await store.insert_api_key(key)


def offered(user: User) -> tuple[str, ...]:
    """The scopes a user may give a key of their own (an admin, every one)."""
    return SCOPES if at_least(user.role, ADMIN) else scopes_for(user.role)


async def create_from_input(
    store: Store, user: User, name: str, scopes: Iterable[str]
) -> tuple[str, ApiKey]:
    """A key of `user`'s own from what they typed and ticked: the name checked, the scopes
    known ones within the user's role (`InvalidField` naming `name` or `scope` otherwise)."""
    name = name.strip()
    if len(name) > MAX_NAME:
        raise InvalidField("name", f"name must be at most {MAX_NAME} characters")
    return await users_service.create_key(store, user, parse_scopes(scopes), name)


async def visible_to(store: Store, user: User | None) -> list[ApiKey]:
    """The keys `user` may see and revoke: an admin (or the CLI, None) every key, the install's
    too; anyone else their own. Never a secret: none is stored."""
    if user is None or at_least(user.role, ADMIN):
        return await store.list_api_keys()
    return await store.list_api_keys(user.id)


def bare_prefix(given: str) -> str:
    """The prefix of `fm_<prefix>_…`, or the bare prefix as given."""
    return given.removeprefix("fm_").split("_")[0]


async def find(store: Store, prefix: str, user: User | None = None) -> ApiKey | None:
    """A key `user` may revoke, by prefix (None: no such key, or another user's)."""
    key = await store.api_key_by_prefix(bare_prefix(prefix))
    if key is None or user is None or at_least(user.role, ADMIN) or key.user_id == user.id:
        return key
    return None


async def revoke(store: Store, prefix: str, user: User | None = None) -> bool:
    """Revoke a key `user` may revoke (the CLI, None, any); False when there is none."""
    key = await find(store, prefix, user)
    return key is not None and await store.revoke_api_key(key.prefix)
