"""Archiving a link and restoring it, on every engine: the code stays the link's own while it
is archived, and the restored link is found by its code and listed as active again."""

from __future__ import annotations

import pytest

from firstmark.domain.links import Link
from firstmark.errors import SlugTaken
from firstmark.services import links as links_service
from firstmark.store import LinkQuery, Store


async def test_archive_then_restore(any_store: Store) -> None:
    made = await any_store.insert_link(Link(destination="https://a.example/", code="spring"))
    assert made.id is not None
    archived = await links_service.archive_link(any_store, made.id)
    assert archived.archived and archived.version == made.version + 1
    with pytest.raises(SlugTaken):  # the code stays the archived link's own
        await any_store.insert_link(Link(destination="https://b.example/", code="spring"))
    restored = await links_service.unarchive_link(any_store, made.id)
    assert not restored.archived and restored.version == made.version + 2
    found = await any_store.link_by_code("", "spring")
    assert found is not None and found.id == made.id and not found.archived
    active, total = await any_store.list_links(LinkQuery(filters={}))
    assert [link.code for link in active] == ["spring"] and total == 1
    again = await links_service.unarchive_link(any_store, made.id)
    assert again == restored  # restoring an active link changes nothing
