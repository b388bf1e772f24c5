"""API keys: what the dashboard's key page, `firstmark init` and `firstmark keys` all do."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from firstmark.domain.keys import ApiKey, new_key, parse_scopes
from firstmark.errors import InvalidField
from firstmark.store import Store

MAX_NAME = 100


async def create(store: Store, scopes: Sequence[str], name: str) -> tuple[str, ApiKey]:
    """A new key with `scopes`, stored hashed; the full key is in the first element and is
    shown once, never stored."""
    shown, key = new_key(tuple(scopes), name=name)
    return shown, await store.insert_api_key(key)


async def create_from_input(store: Store, name: str, scopes: Iterable[str]) -> tuple[str, ApiKey]:
    """A key from what a person typed and ticked: the name checked, the scopes known ones
    (`InvalidField` naming `name` or `scope` otherwise)."""
    name = name.strip()
    if len(name) > MAX_NAME:
        raise InvalidField("name", f"name must be at most {MAX_NAME} characters")
    return await create(store, parse_scopes(scopes), name)


async def listing(store: Store) -> list[ApiKey]:
    """Every key, active and revoked, for a page to list (never a secret: none is stored)."""
    return await store.list_api_keys()


def bare_prefix(given: str) -> str:
    """The prefix of `fm_<prefix>_…`, or the bare prefix as given."""
    return given.removeprefix("fm_").split("_")[0]


async def find(store: Store, prefix: str) -> ApiKey | None:
    return await store.api_key_by_prefix(bare_prefix(prefix))


async def revoke(store: Store, prefix: str) -> bool:
    """Revoke a key by its prefix (`fm_<prefix>_…` or the bare prefix); False when none has it."""
    return await store.revoke_api_key(bare_prefix(prefix))
