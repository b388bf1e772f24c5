"""The dashboard's Sites page: add a site, copy its snippet, see whether its first event
arrived, change its hosts; bad input is named next to its field and nothing is saved."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest
from test_collect import post_event

from dashtools import csrf_of, error_for, make_client
from firstmark.store import Store


async def add(dash: httpx.AsyncClient, **fields: str) -> httpx.Response:
    csrf = csrf_of((await dash.get("/dashboard/sites")).text)
    return await dash.post("/dashboard/sites", data={"csrf": csrf, **fields})


def snippet(page: str, site_id: int) -> str:
    found = re.search(rf'id="snippet-{site_id}"[^>]*>([^<]*)</textarea>', page)
    assert found, "no snippet"
    return html.unescape(found.group(1))


async def test_add_a_site_and_paste_the_snippet_the_api_gives(
    dash: httpx.AsyncClient, client: httpx.AsyncClient, store: Store
) -> None:
    answer = await add(dash, hosts="Shop.example\nwww.shop.example", name="Shop")
    assert answer.status_code == 303
    [site] = await store.list_sites()
    assert site.name == "Shop" and site.hosts == ("shop.example", "www.shop.example")
    assert answer.headers["location"] == f"/dashboard/sites#site-{site.id}"
    page = (await dash.get(answer.headers["location"])).text
    assert "Site Shop added" in page
    [listed] = (await client.get("/api/v1/sites")).json()["items"]
    assert snippet(page, site.id or 0) == listed["snippet"]
    assert listed["snippet"] == (
        f'<script defer src="http://fm.test/fm.js" data-site="{site.key}"></script>'
    )
    assert f'data-copy-field="snippet-{site.id}"' in page  # the copy button
    assert 'href="/dashboard/sites" aria-current="page"' in page  # in the navigation


async def test_the_page_says_when_the_first_event_arrived(
    app: Any, dash: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    await add(dash, hosts="shop.example")
    [site] = await store.list_sites()
    status = f"/dashboard/sites/{site.id}/status"
    page = (await dash.get("/dashboard/sites")).text
    assert "Waiting for the first event…" in page
    assert f'data-status-url="{status}"' in page  # what dashboard.js polls
    assert f'href="/dashboard/sites#site-{site.id}">Check again' in page  # without JS
    waiting = await dash.get(status)
    assert waiting.status_code == 200 and waiting.headers["cache-control"] == "no-store"
    assert waiting.json() == {
        "received": False, "last_event": None, "message": "Waiting for the first event…",
    }  # fmt: skip

    sent = await post_event(anon, {"site": site.key, "url": "https://shop.example/"})
    assert sent.status_code == 202, sent.text
    await app.state.runtime.event_writer.drain()

    received = (await dash.get(status)).json()
    assert received["received"] is True and received["last_event"].endswith("Z")
    assert received["message"].startswith("Received: the latest event arrived")
    page = (await dash.get("/dashboard/sites")).text
    assert "Waiting for the first event" not in page and "data-status-url" not in page
    assert "Received: the latest event arrived" in page


async def test_the_status_needs_a_login_and_a_real_site(app: Any, dash: httpx.AsyncClient) -> None:
    async with await make_client(app) as stranger:
        answer = await stranger.get("/dashboard/sites/1/status")
        assert answer.status_code == 303 and "/dashboard/login" in answer.headers["location"]
    assert (await dash.get("/dashboard/sites/999/status")).status_code == 404


@pytest.mark.parametrize(
    ("hosts", "name", "field", "message"),
    [
        ("", "", "hosts", "hosts must be a non-empty list"),
        ("shop example/path", "", "hosts", "host"),
        ("shop.example", "x" * 201, "name", "name must be text of 1 to 200"),
    ],
)
async def test_bad_input_is_named_and_nothing_is_saved(
    dash: httpx.AsyncClient, store: Store, hosts: str, name: str, field: str, message: str
) -> None:
    answer = await add(dash, hosts=hosts, name=name)
    assert answer.status_code == 422
    assert message in (error_for(answer.text, field) or "")
    assert "The site was not added" in answer.text
    assert await store.list_sites() == []


async def test_change_the_hosts_of_a_site(dash: httpx.AsyncClient, store: Store) -> None:
    await add(dash, hosts="shop.example")
    await add(dash, hosts="blog.example")
    shop, _ = await store.list_sites()
    form = await dash.get(f"/dashboard/sites/{shop.id}/edit")
    assert form.status_code == 200 and ">shop.example</textarea>" in form.text
    saved = await dash.post(
        f"/dashboard/sites/{shop.id}/edit",
        data={"csrf": csrf_of(form.text), "hosts": "shop.example, www.shop.example"},
    )
    assert saved.status_code == 303
    changed = await store.site_by_key(shop.key)
    assert changed is not None and changed.hosts == ("shop.example", "www.shop.example")
    assert changed.key == shop.key  # the snippet on the pages stays valid
    taken = await dash.post(
        f"/dashboard/sites/{shop.id}/edit",
        data={"csrf": csrf_of(form.text), "hosts": "blog.example"},
    )
    assert taken.status_code == 422 and error_for(taken.text, "hosts")
    kept = await store.site_by_key(shop.key)
    assert kept is not None and kept.hosts == ("shop.example", "www.shop.example")
    assert (await dash.get("/dashboard/sites/999/edit")).status_code == 404


async def test_site_forms_need_their_csrf_token(dash: httpx.AsyncClient, store: Store) -> None:
    await add(dash, hosts="shop.example")
    [site] = await store.list_sites()
    for path, data in (
        ("/dashboard/sites", {"hosts": "blog.example"}),
        (f"/dashboard/sites/{site.id}/edit", {"hosts": "other.example"}),
    ):
        answer = await dash.post(path, data={**data, "csrf": "forged"})
        assert answer.status_code == 403
    assert [s.hosts for s in await store.list_sites()] == [("shop.example",)]
