"""The key work every front door shares (the dashboard's key page, `firstmark keys`): a key
from typed input within the maker's role, who sees which keys, and revoking by prefix."""

from __future__ import annotations

import pytest

from firstmark.domain.keys import SCOPES, matches, split_key
from firstmark.domain.passwords import hash_password
from firstmark.errors import InvalidField
from firstmark.services import keys as keys_service
from firstmark.services import users as users_service
from firstmark.store import Store, User


async def user(store: Store, name: str, role: str) -> User:
    await store.insert_user(name, hash_password("correct horse battery"), role)
    return await users_service.find(store, name)


async def test_a_key_from_input_is_its_makers_and_revokes_by_prefix(store: Store) -> None:
    ann = await user(store, "ann", "analyst")
    shown, made = await keys_service.create_from_input(
        store, ann, "  nightly export ", ["reports:read", "reports:read", "links:read"]
    )
    assert made.name == "nightly export" and made.scopes == ("reports:read", "links:read")
    assert made.user_id == ann.id
    parts = split_key(shown)
    assert parts is not None and parts[0] == made.prefix
    stored = await keys_service.find(store, shown, ann)  # the full key names it too
    assert stored is not None and matches(stored, parts[1])
    install, _ = await keys_service.create(store, ("admin",), "init")
    assert [k.prefix for k in await keys_service.visible_to(store, ann)] == [made.prefix]
    boss = await user(store, "boss", "admin")
    assert len(await keys_service.visible_to(store, boss)) == 2  # the install's key too
    assert len(await keys_service.visible_to(store, None)) == 2  # the CLI
    assert not await keys_service.revoke(store, install, ann)  # not hers
    assert await keys_service.revoke(store, f"fm_{made.prefix}_…", ann)
    assert [k.revoked for k in await keys_service.visible_to(store, ann)] == [True]
    assert await keys_service.revoke(store, install, boss)
    assert not await keys_service.revoke(store, "nosuchke")


async def test_the_scopes_offered_follow_the_role(store: Store) -> None:
    assert keys_service.offered(await user(store, "boss", "admin")) == SCOPES
    offered = keys_service.offered(await user(store, "ann", "analyst"))
    assert set(offered) == {"reports:read", "links:read"}


@pytest.mark.parametrize(
    ("name", "scopes", "field"),
    [("x" * 101, ["links:read"], "name"), ("ci", [], "scope"), ("ci", ["root"], "scope"),
     ("ci", ["links:write"], "scope")],
)  # fmt: skip
async def test_bad_input_names_its_field_and_stores_nothing(
    store: Store, name: str, scopes: list[str], field: str
) -> None:
    ann = await user(store, "ann", "analyst")
    with pytest.raises(InvalidField) as refused:
        await keys_service.create_from_input(store, ann, name, scopes)
    assert refused.value.field == field
    assert await keys_service.visible_to(store, None) == []
