"""Users, roles, invitations and users' keys, the same on both engines."""

from __future__ import annotations

import time

import pytest

from firstmark.domain.keys import new_key
from firstmark.errors import Conflict
from firstmark.store import Store


async def _user_key(store: Store, user_id: int) -> str:
    _, key = new_key(("admin",), name="k", user_id=user_id)
    await store.insert_api_key(key)
    return key.prefix


async def test_a_key_reads_with_its_users_role_and_follows_it(any_store: Store) -> None:
    ada = await any_store.insert_user("ada", "scrypt$x", "editor")
    prefix = await _user_key(any_store, ada)
    key = await any_store.api_key_by_prefix(prefix)
    assert key is not None and (key.user_id, key.role, key.revoked) == (ada, "editor", False)
    assert key.allows("links:write") and not key.allows("admin")
    assert await any_store.set_user_role(ada, "analyst")
    key = await any_store.api_key_by_prefix(prefix)
    assert key is not None and key.role == "analyst" and not key.allows("links:write")
    assert key.allows("reports:read")


async def test_install_keys_have_no_role_bound(any_store: Store) -> None:
    _, key = new_key(("admin",))
    await any_store.insert_api_key(key)
    found = await any_store.api_key_by_prefix(key.prefix)
    assert found is not None and found.role is None and found.allows("admin")


async def test_disabling_ends_sessions_and_stops_keys_until_enabled(any_store: Store) -> None:
    ada = await any_store.insert_user("ada", "scrypt$x", "admin")
    prefix = await _user_key(any_store, ada)
    now = time.time()
    await any_store.insert_session("s1", ada, now, now + 3600)
    assert await any_store.set_user_disabled(ada, True, now)
    assert await any_store.session_user("s1", now) is None
    key = await any_store.api_key_by_prefix(prefix)
    assert key is not None and key.revoked
    user = await any_store.user_by_name("ada")
    assert user is not None and user.disabled
    await any_store.insert_session("s2", ada, now, now + 3600)
    assert await any_store.session_user("s2", now) is None  # no session while disabled
    assert await any_store.set_user_disabled(ada, False, now)
    key = await any_store.api_key_by_prefix(prefix)
    assert key is not None and not key.revoked
    assert await any_store.session_user("s2", now) is not None


async def test_removing_a_user_revokes_their_keys(any_store: Store) -> None:
    ada = await any_store.insert_user("ada", "scrypt$x", "editor")
    bob = await any_store.insert_user("bob", "scrypt$y", "editor")
    gone, kept = await _user_key(any_store, ada), await _user_key(any_store, bob)
    assert await any_store.delete_user(ada)
    assert await any_store.user_by_name("ada") is None
    key = await any_store.api_key_by_prefix(gone)
    assert key is not None and key.revoked  # kept, for the record
    other = await any_store.api_key_by_prefix(kept)
    assert other is not None and not other.revoked
    assert [k.prefix for k in await any_store.list_api_keys(bob)] == [kept]
    assert [u.username for u in await any_store.list_users()] == ["bob"]


async def test_an_invitation_works_once_and_not_after_it_expires(any_store: Store) -> None:
    now = time.time()
    made = await any_store.insert_invitation("h1", "analyst", "user:ada", now, now + 60)
    await any_store.insert_invitation("h2", "editor", "user:ada", now - 120, now - 60)
    assert [i.id for i in await any_store.list_invitations(now)] == [made.id]
    joined = await any_store.accept_invitation("h1", "carol", "scrypt$c", now)
    assert joined is not None and (joined.username, joined.role) == ("carol", "analyst")
    assert await any_store.accept_invitation("h1", "dave", "scrypt$d", now) is None  # used
    assert await any_store.accept_invitation("h2", "erin", "scrypt$e", now) is None  # expired
    assert await any_store.user_by_name("dave") is None
    assert await any_store.list_invitations(now) == []


async def test_a_taken_name_leaves_the_invitation_unused(any_store: Store) -> None:
    now = time.time()
    await any_store.insert_user("carol", "scrypt$x", "viewer")
    made = await any_store.insert_invitation("h1", "editor", "cli", now, now + 60)
    with pytest.raises(Conflict):
        await any_store.accept_invitation("h1", "carol", "scrypt$c", now)
    assert [i.id for i in await any_store.list_invitations(now)] == [made.id]
    joined = await any_store.accept_invitation("h1", "carol2", "scrypt$c", now)
    assert joined is not None and joined.role == "editor"


async def test_a_cancelled_invitation_cannot_be_used(any_store: Store) -> None:
    now = time.time()
    made = await any_store.insert_invitation("h1", "viewer", "cli", now, now + 60)
    assert await any_store.delete_invitation(made.id)
    assert await any_store.accept_invitation("h1", "carol", "scrypt$c", now) is None
