"""Server-side dashboard sessions on both engines: created, found, expired, revoked."""

from __future__ import annotations

from firstmark.store import Store


async def test_a_session_names_its_user_until_it_expires_or_is_deleted(any_store: Store) -> None:
    ada = await any_store.insert_user("ada", "scrypt$x", "owner")
    bob = await any_store.insert_user("bob", "scrypt$y", "viewer")
    await any_store.insert_session("k-ada-1", ada, 1000.0, 2000.0)
    await any_store.insert_session("k-ada-2", ada, 1000.0, 2000.0)
    await any_store.insert_session("k-bob", bob, 1000.0, 2000.0)
    found = await any_store.session_user("k-ada-1", 1500.0)
    assert found is not None and (found.id, found.username, found.is_admin) == (ada, "ada", True)
    assert await any_store.session_user("k-ada-1", 2000.0) is None  # expired
    assert await any_store.session_user("nope", 1500.0) is None
    assert await any_store.delete_session("k-ada-1") is True
    assert await any_store.delete_session("k-ada-1") is False
    assert await any_store.session_user("k-ada-1", 1500.0) is None
    assert await any_store.session_user("k-ada-2", 1500.0) is not None
    assert await any_store.delete_user_sessions(ada) == 1
    assert await any_store.session_user("k-ada-2", 1500.0) is None
    assert await any_store.session_user("k-bob", 1500.0) is not None


async def test_a_new_password_ends_every_session_of_its_user(any_store: Store) -> None:
    ada = await any_store.insert_user("ada", "scrypt$old", "owner")
    bob = await any_store.insert_user("bob", "scrypt$b", "viewer")
    await any_store.insert_session("k-ada", ada, 1000.0, 9000.0)
    await any_store.insert_session("k-bob", bob, 1000.0, 9000.0)
    assert await any_store.set_user_password(ada, "scrypt$new") is True
    user = await any_store.user_by_name("ada")
    assert user is not None and user.password_hash == "scrypt$new"
    assert await any_store.session_user("k-ada", 1500.0) is None
    assert await any_store.session_user("k-bob", 1500.0) is not None
    assert await any_store.set_user_password(ada + bob + 100, "scrypt$z") is False


async def test_expired_sessions_are_cleared_as_new_ones_start(any_store: Store) -> None:
    ada = await any_store.insert_user("ada", "scrypt$x", "owner")
    await any_store.insert_session("old", ada, 1000.0, 2000.0)
    await any_store.insert_session("new", ada, 3000.0, 4000.0)
    # The expired row is gone: deleting it again finds nothing.
    assert await any_store.delete_session("old") is False
    assert await any_store.session_user("new", 3500.0) is not None
