"""Archive stays reversible through the API: `PATCH {"archived": false}` restores a link,
`{"archived": true}` archives it, anything else is refused naming the field."""

from __future__ import annotations

import httpx
import pytest

from firstmark.store import Store

LINK = {"destination": "https://shop.example/spring", "code": "spring"}


async def test_patch_archives_and_restores_a_link(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    link_id = (await client.post("/api/v1/links", json=LINK)).json()["id"]
    archived = await client.patch(f"/api/v1/links/{link_id}", json={"archived": True})
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived"] is True
    assert (await anon.get("/spring")).status_code == 410
    listed = (await client.get("/api/v1/links", params={"archived": "true"})).json()
    assert [item["id"] for item in listed["items"]] == [link_id]

    restored = await client.patch(f"/api/v1/links/{link_id}", json={"archived": False})
    assert restored.status_code == 200, restored.text
    assert restored.json()["archived"] is False
    assert restored.json()["version"] == archived.json()["version"] + 1
    back = await anon.get("/spring")
    assert back.status_code == 302
    assert back.headers["location"].startswith("https://shop.example/spring")
    saved = await store.get_link(link_id)
    assert saved is not None and not saved.archived


async def test_a_deleted_link_comes_back_with_patch(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    link_id = (await client.post("/api/v1/links", json=LINK)).json()["id"]
    assert (await client.delete(f"/api/v1/links/{link_id}")).status_code == 204
    answer = await client.patch(
        f"/api/v1/links/{link_id}", json={"archived": False, "campaign": "again"}
    )
    assert answer.status_code == 200
    assert answer.json()["archived"] is False and answer.json()["campaign"] == "again"
    assert (await anon.get("/spring")).status_code == 302


@pytest.mark.parametrize("value", [None, "false", 0, "no"])
async def test_archived_must_be_true_or_false(
    client: httpx.AsyncClient, store: Store, value: object
) -> None:
    link_id = (await client.post("/api/v1/links", json=LINK)).json()["id"]
    await client.delete(f"/api/v1/links/{link_id}")
    answer = await client.patch(f"/api/v1/links/{link_id}", json={"archived": value})
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["error"]["field"] == "archived"
    saved = await store.get_link(link_id)
    assert saved is not None and saved.archived  # nothing changed
