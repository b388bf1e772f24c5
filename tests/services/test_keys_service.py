"""The key work every front door shares (the dashboard's key page, `firstmark keys`): a key
from typed input, the list, and revoking by prefix in either form."""

from __future__ import annotations

import pytest

from firstmark.domain.keys import matches, split_key
from firstmark.errors import InvalidField
from firstmark.services import keys as keys_service
from firstmark.store import Store


async def test_a_key_from_input_works_once_and_revokes_by_prefix(store: Store) -> None:
    shown, made = await keys_service.create_from_input(
        store, "  nightly export ", ["reports:read", "reports:read", "links:read"]
    )
    assert made.name == "nightly export" and made.scopes == ("reports:read", "links:read")
    parts = split_key(shown)
    assert parts is not None and parts[0] == made.prefix
    stored = await keys_service.find(store, shown)  # the full key names it too
    assert stored is not None and matches(stored, parts[1])
    assert [k.prefix for k in await keys_service.listing(store)] == [made.prefix]
    assert await keys_service.revoke(store, f"fm_{made.prefix}_…")
    assert [k.revoked for k in await keys_service.listing(store)] == [True]
    assert not await keys_service.revoke(store, "nosuchke")


@pytest.mark.parametrize(
    ("name", "scopes", "field"),
    [("x" * 101, ["admin"], "name"), ("ci", [], "scope"), ("ci", ["root"], "scope")],
)
async def test_bad_input_names_its_field_and_stores_nothing(
    store: Store, name: str, scopes: list[str], field: str
) -> None:
    with pytest.raises(InvalidField) as refused:
        await keys_service.create_from_input(store, name, scopes)
    assert refused.value.field == field
    assert await keys_service.listing(store) == []
