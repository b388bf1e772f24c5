"""Dashboard users, their roles, invitations and their own API keys: what the CLI and the
dashboard both do to them, in one place.

Changing a password, disabling or removing a user ends every session of the user (the store
does both in one transaction). The rules about who may change whom are domain/roles.py's; the
one kept here is that an install always keeps an enabled owner, so nobody locks everyone out.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence

from firstmark.domain import roles
from firstmark.domain.invitations import INVITATION_DAYS, check_username, new_token, token_hash
from firstmark.domain.keys import ApiKey, new_key
from firstmark.domain.passwords import check_new, hash_password
from firstmark.errors import Conflict, Forbidden, NotFound
from firstmark.services.workers import Workers, run
from firstmark.store import Invitation, Store, User

# What the CLI acts as: the operator of the machine, who may do anything.
OPERATOR = roles.OWNER


async def find(store: Store, username: str) -> User:
    user = await store.user_by_name(username)
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    return user


async def _hash(password: str, workers: Workers | None) -> str:
    check_new(password)
    # scrypt takes tens of milliseconds of CPU: off the event loop (it releases the GIL).
    return await run(workers, hash_password, password, cpu=False)


async def set_password(
    store: Store, user: User, password: str, workers: Workers | None = None
) -> None:
    """A new password for `user`, checked first; every session of the user ends."""
    hashed = await _hash(password, workers)
    if not await store.set_user_password(user.id, hashed):
        raise NotFound(f"no user {user.username!r}", field="username")


async def add(
    store: Store,
    username: str,
    role: str,
    password: str | None = None,
    *,
    actor_role: str = OPERATOR,
    workers: Workers | None = None,
) -> tuple[User, str | None]:
    """A new user; without `password` one is generated and returned (to show once)."""
    check_username(username)
    role = roles.parse_role(role)
    _may_give(actor_role, role)
    generated = None if password else secrets.token_urlsafe(12)
    hashed = await _hash(password or generated or "", workers)
    user_id = await store.insert_user(username, hashed, role)
    return User(user_id, username, hashed, role), generated


async def set_role(store: Store, target: User, role: str, *, actor: User | None = None) -> User:
    """Give `target` another role; their keys follow at once (a key never exceeds its user)."""
    role = roles.parse_role(role)
    _check_manage(target, actor, role)
    if target.role == roles.OWNER and role != roles.OWNER:
        await _keep_an_owner(store, target)
    await store.set_user_role(target.id, role)
    return User(target.id, target.username, target.password_hash, role, target.disabled)


async def set_disabled(
    store: Store, target: User, disabled: bool, *, actor: User | None = None
) -> None:
    """Disable (sessions end, keys stop, no sign-in) or enable a user again."""
    _check_manage(target, actor)
    if disabled and target.role == roles.OWNER:
        await _keep_an_owner(store, target)
    await store.set_user_disabled(target.id, disabled, time.time())


async def remove(store: Store, target: User, *, actor: User | None = None) -> None:
    """Remove a user: their sessions end and their keys are revoked (kept, for the record)."""
    _check_manage(target, actor)
    if target.role == roles.OWNER:
        await _keep_an_owner(store, target)
    await store.delete_user(target.id)


async def invite(
    store: Store, role: str, *, actor: str, actor_role: str = OPERATOR
) -> tuple[str, Invitation]:
    """A one-time invitation to join with `role`: the token (to show once) and what is kept."""
    role = roles.parse_role(role)
    _may_give(actor_role, role)
    token, now = new_token(), time.time()
    made = await store.insert_invitation(
        token_hash(token), role, actor, now, now + INVITATION_DAYS * 86_400
    )
    return token, made


async def join(
    store: Store, token: str, username: str, password: str, workers: Workers | None = None
) -> User:
    """Accept an invitation: the new user, with the invitation's role."""
    check_username(username)
    hashed = await _hash(password, workers)
    if await store.user_by_name(username) is not None:
        raise Conflict(f"the user {username!r} exists already", field="username")
    user = await store.accept_invitation(token_hash(token), username, hashed, time.time())
    if user is None:
        raise NotFound("this invitation is unknown, used or expired; ask for a new one")
    return user


async def create_key(
    store: Store, user: User, scopes: Sequence[str], name: str
) -> tuple[str, ApiKey]:
    """A key of `user`'s own, never with more than the user's role allows."""
    roles.check_key_scopes(user.role, tuple(scopes))
    shown, key = new_key(tuple(scopes), name=name, user_id=user.id)
    return shown, await store.insert_api_key(key)


def _may_give(actor_role: str, role: str) -> None:
    if not roles.may_manage(actor_role, roles.VIEWER, role):
        raise Forbidden(f"a {actor_role} cannot make a user {role}")


def _check_manage(target: User, actor: User | None, new: str | None = None) -> None:
    """The dashboard's rules (the CLI, `actor` None, is the machine's operator): admins manage
    users below owner, owners everyone, and nobody changes their own role or standing."""
    if actor is None:
        return
    if actor.id == target.id:
        raise Forbidden("you cannot change your own role, disable or remove yourself")
    if not roles.may_manage(actor.role, target.role, new):
        raise Forbidden(f"a {actor.role} cannot change a user who is {target.role}")


async def _keep_an_owner(store: Store, leaving: User) -> None:
    owners = [
        u
        for u in await store.list_users()
        if u.role == roles.OWNER and not u.disabled and u.id != leaving.id
    ]
    if not owners:
        raise Conflict(
            f"{leaving.username!r} is the last enabled owner; make another user owner first",
            field="role",
        )
