"""API keys: what the dashboard's key page, `firstmark init` and `firstmark keys` all do."""

from __future__ import annotations

from collections.abc import Sequence

from firstmark.domain.keys import ApiKey, new_key
from firstmark.store import Store


async def create(store: Store, scopes: Sequence[str], name: str) -> tuple[str, ApiKey]:
    """A new key with `scopes`, stored hashed; the full key is in the first element and is
    shown once, never stored."""
    shown, key = new_key(tuple(scopes), name=name)
    return shown, await store.insert_api_key(key)
