"""Destructive dashboard actions ask first: archiving a link, releasing a number and revoking
an API key answer with a confirm page until it is confirmed; an archived link can be
unarchived; the key page offers every scope to an admin, shows a new key once with a copy
button, and lets an analyst see and revoke only their own keys."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from calltools import number
from dashtools import PASSWORD, csrf_of, log_in, make_client
from firstmark.domain import audit
from firstmark.domain.keys import SCOPES
from firstmark.domain.links import Link
from firstmark.domain.passwords import hash_password
from firstmark.services import keys as keys_service
from firstmark.store import Store


def confirm_form(page: str) -> str:
    """The confirm page's form: where it posts, with the confirmation in it."""
    found = re.search(r'<form method="post" action="([^"]+)" class="actions">(.*?)</form>', page,
                      re.S)  # fmt: skip
    assert found, "no confirm form"
    assert '<input type="hidden" name="confirm" value="yes">' in found.group(2)
    return found.group(1)


async def test_archive_asks_first_and_unarchive_restores(
    dash: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    link = await store.insert_link(Link(destination="https://a.example/", code="spring"))
    page = (await dash.get(f"/dashboard/links/{link.id}")).text
    assert (
        f'action="/dashboard/links/{link.id}/archive" class="inline" data-confirm="Archive spring?'
        in page
    )
    asked = await dash.post(f"/dashboard/links/{link.id}/archive", data={"csrf": csrf_of(page)})
    assert asked.status_code == 200 and "Archive spring?" in asked.text
    assert "you can unarchive it later" in asked.text
    assert confirm_form(asked.text) == f"/dashboard/links/{link.id}/archive"
    assert f'href="/dashboard/links/{link.id}">Cancel' in asked.text
    kept = await store.get_link(link.id or 0)
    assert kept is not None and not kept.archived  # nothing done yet

    done = await dash.post(
        f"/dashboard/links/{link.id}/archive", data={"csrf": csrf_of(asked.text), "confirm": "yes"}
    )
    assert done.status_code == 303
    assert (await anon.get("/spring")).status_code == 410
    listed = (await dash.get("/dashboard/links", params={"archived": "true"})).text
    assert "/spring" in listed
    page = (await dash.get(f"/dashboard/links/{link.id}")).text
    assert ">Unarchive</button>" in page and ">Archive</button>" not in page

    back = await dash.post(f"/dashboard/links/{link.id}/unarchive", data={"csrf": csrf_of(page)})
    assert back.status_code == 303
    assert "Unarchived spring" in (await dash.get(back.headers["location"])).text
    restored = await store.get_link(link.id or 0)
    assert restored is not None and not restored.archived
    assert (await anon.get("/spring")).status_code == 302
    assert "/spring" in (await dash.get("/dashboard/links")).text
    found, _ = await store.list_audit(audit.Query())
    assert sorted(e.action for e in found) == ["archive", "unarchive"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/dashboard/sites"), ("GET", "/dashboard/sites/1/edit"),
        ("GET", "/dashboard/links/1/event"), ("POST", "/dashboard/sites"),
        ("POST", "/dashboard/links/1/unarchive"), ("POST", "/dashboard/links/1/event"),
        ("POST", "/dashboard/links/1/event/off"),
    ],
)  # fmt: skip
async def test_the_new_pages_need_a_login(app: Any, store: Store, method: str, path: str) -> None:
    await store.insert_link(Link(destination="https://a.example/", code="spring", archived=True))
    async with await make_client(app) as stranger:
        answer = await stranger.request(method, path, data={"hosts": "shop.example"})
    assert answer.status_code == 303 and "/dashboard/login" in answer.headers["location"]
    assert await store.list_sites() == []
    kept = await store.get_link(1)
    assert kept is not None and kept.archived


async def test_release_asks_first(dash: httpx.AsyncClient, store: Store) -> None:
    kept = await number(store, "+442079460200")
    page = (await dash.get("/dashboard/numbers")).text
    assert 'data-confirm="Release +44 20 7946 0200?' in page
    asked = await dash.post(f"/dashboard/numbers/{kept.id}/release", data={"csrf": csrf_of(page)})
    assert asked.status_code == 200 and "Release +44 20 7946 0200?" in asked.text
    assert confirm_form(asked.text) == f"/dashboard/numbers/{kept.id}/release"
    assert [n.e164 for n in await store.list_numbers()] == ["+442079460200"]
    done = await dash.post(
        f"/dashboard/numbers/{kept.id}/release", data={"csrf": csrf_of(page), "confirm": "yes"}
    )
    assert done.status_code == 303 and await store.list_numbers() == []


async def test_keys_page_offers_every_scope_and_revoke_asks_first(
    dash: httpx.AsyncClient, store: Store
) -> None:
    page = (await dash.get("/dashboard/keys")).text
    offered = re.findall(r'type="checkbox" id="scope-\d+" name="scope" value="([^"]+)"', page)
    assert tuple(offered) == SCOPES
    made = await dash.post(
        "/dashboard/keys",
        data={"csrf": csrf_of(page), "name": "reports", "scope": ["reports:read", "costs:write"]},
    )
    assert made.status_code == 200
    assert 'data-copy-field="new-key"' in made.text  # the copy button, for the one time it is shown
    [key] = await store.list_api_keys()
    assert key.scopes == ("reports:read", "costs:write") and key.name == "reports"
    row = re.search(rf"<tr>\s*<th scope=\"row\"><code>fm_{key.prefix}_…</code></th>(.*?)</tr>",
                    made.text, re.S)  # fmt: skip
    assert row is not None
    assert "reports:read, costs:write" in row.group(1) and "active" in row.group(1)
    assert f'data-confirm="Revoke fm_{key.prefix}_… (reports)?' in row.group(1)

    asked = await dash.post(
        f"/dashboard/keys/{key.prefix}/revoke", data={"csrf": csrf_of(made.text)}
    )
    assert asked.status_code == 200 and "Revoke this key?" in asked.text
    assert confirm_form(asked.text) == f"/dashboard/keys/{key.prefix}/revoke"
    assert [k.revoked for k in await store.list_api_keys()] == [False]
    await dash.post(
        f"/dashboard/keys/{key.prefix}/revoke", data={"csrf": csrf_of(made.text), "confirm": "yes"}
    )
    assert [k.revoked for k in await store.list_api_keys()] == [True]
    listing = (await dash.get("/dashboard/keys")).text
    assert "revoked" in listing and f"/dashboard/keys/{key.prefix}/revoke" not in listing
    unknown = await dash.post("/dashboard/keys/nosuchke/revoke", data={"csrf": csrf_of(listing)})
    assert "No key fm_nosuchke_" in (await dash.get(unknown.headers["location"])).text


async def test_an_analyst_sees_and_revokes_only_their_own_keys(
    app: Any, dash: httpx.AsyncClient, store: Store
) -> None:
    install, _ = await keys_service.create(store, ("admin",), "init")
    await store.insert_user("ann", hash_password(PASSWORD), "analyst")
    async with await make_client(app) as ann:
        assert (await log_in(ann, "ann")).status_code == 303
        page = (await ann.get("/dashboard/keys")).text
        made = await ann.post(
            "/dashboard/keys", data={"csrf": csrf_of(page), "name": "mine", "scope": "links:read"}
        )
        assert made.status_code == 200
        listing = (await ann.get("/dashboard/keys")).text
        prefix = install.split("_")[1]
        assert "mine" in listing and f"fm_{prefix}_" not in listing
        refused = await ann.post(
            f"/dashboard/keys/{prefix}/revoke", data={"csrf": csrf_of(listing), "confirm": "yes"}
        )
        assert f"No key fm_{prefix}_" in (await ann.get(refused.headers["location"])).text
    assert [k.revoked for k in await store.list_api_keys()] == [False, False]
    assert f"fm_{prefix}_" in (await dash.get("/dashboard/keys")).text  # the admin sees it
