"""Dashboard users: what the CLI and the dashboard both do to them, in one place.

Changing a password ends every session of the user (the store does both in one transaction).
"""

from __future__ import annotations

from firstmark.domain.passwords import check_new, hash_password
from firstmark.errors import NotFound
from firstmark.services.workers import Workers, run
from firstmark.store import Store, User


async def find(store: Store, username: str) -> User:
    user = await store.user_by_name(username)
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    return user


async def set_password(
    store: Store, user: User, password: str, workers: Workers | None = None
) -> None:
    """A new password for `user`, checked first; every session of the user ends."""
    check_new(password)
    # scrypt takes tens of milliseconds of CPU: off the event loop (it releases the GIL).
    hashed = await run(workers, hash_password, password, cpu=False)
    if not await store.set_user_password(user.id, hashed):
        raise NotFound(f"no user {user.username!r}", field="username")
