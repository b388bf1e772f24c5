"""Dashboard users: what the CLI and the dashboard both do to them, in one place.

Changing a password ends every session of the user (the store does both in one transaction).
"""

from __future__ import annotations

import asyncio

from firstmark.domain.passwords import check_new, hash_password
from firstmark.errors import NotFound
from firstmark.store import Store, User


async def find(store: Store, username: str) -> User:
    user = await store.user_by_name(username)
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    return user


async def set_password(store: Store, user: User, password: str) -> None:
    """A new password for `user`, checked first; every session of the user ends."""
    check_new(password)
    # scrypt takes tens of milliseconds of CPU: off the event loop.
    hashed = await asyncio.to_thread(hash_password, password)
    if not await store.set_user_password(user.id, hashed):
        raise NotFound(f"no user {user.username!r}", field="username")
