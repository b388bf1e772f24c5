"""The audit log: link, destination, key and user changes and privacy requests are recorded
with who did them, listed by the API with filters and pages, and shown in the dashboard."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from test_dashboard import dash, token, user  # noqa: F401

from dashtools import csrf_of, make_client
from firstmark.cli.main import main
from firstmark.config import Settings
from firstmark.domain import audit
from firstmark.store import Store


async def entries(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/audit", params=params)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def shape(items: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return [(i["action"], i["object_kind"], i["object_id"]) for i in items]


async def test_api_changes_are_recorded_with_the_key_that_made_them(
    client: httpx.AsyncClient,
) -> None:
    made = await client.post("/api/v1/links", json={"destination": "https://a.example/"})
    link_id = made.json()["id"]
    await client.patch(f"/api/v1/links/{link_id}", json={"destination": "https://b.example/"})
    await client.delete(f"/api/v1/links/{link_id}")
    dest = await client.post(
        "/api/v1/destinations",
        json={"platform": "meta", "name": "Meta", "credentials": {"pixel_id": "1234567890",
              "access_token": "EAAsecrettoken123"}},
    )  # fmt: skip
    assert dest.status_code == 201, dest.text
    dest_id = dest.json()["id"]
    await client.patch(f"/api/v1/destinations/{dest_id}", json={"enabled": False})
    await client.delete(f"/api/v1/destinations/{dest_id}")

    items = await entries(client)
    assert shape(items) == [
        ("delete", "destination", str(dest_id)),
        ("update", "destination", str(dest_id)),
        ("create", "destination", str(dest_id)),
        ("archive", "link", str(link_id)),
        ("update", "link", str(link_id)),
        ("create", "link", str(link_id)),
    ]
    key_prefix = client.headers["authorization"].split("_")[1]
    assert {i["actor"] for i in items} == {f"key:{key_prefix}"}
    # What changed is named, never its value (credentials are secrets).
    assert items[1]["detail"] == {"fields": ["enabled"]}
    assert items[4]["detail"] == {"fields": ["destination"]}
    assert "EAAsecret" not in str(items)


async def test_filters_and_pages(client: httpx.AsyncClient, store: Store) -> None:
    for n in range(7):
        await store.insert_audit(audit.Entry("user:ann", "create", "link", str(n), ts=1000.0 + n))
    await store.insert_audit(audit.Entry("cli", "revoke", "key", "abc", ts=90000.0))
    first = (await client.get("/api/v1/audit", params={"actor": "user:ann", "limit": "3"})).json()
    assert first["total"] == 7 and [i["object_id"] for i in first["items"]] == ["6", "5", "4"]
    second = await client.get(
        "/api/v1/audit", params={"actor": "user:ann", "limit": "3", "offset": "3"}
    )
    assert [i["object_id"] for i in second.json()["items"]] == ["3", "2", "1"]
    assert shape(await entries(client, object_kind="key")) == [("revoke", "key", "abc")]
    assert len(await entries(client, **{"from": "1970-01-02"})) == 1
    assert len(await entries(client, to="1970-01-01")) == 7


KNOWN = {"actor", "action", "object_kind", "object_id", "from", "to", "limit", "offset"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "5000"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"from": "soon"}, "from"),
        ({"object_kind": "visitor"}, "object_kind"),
        ({"who": "x"}, "who"),
    ],
)
async def test_bad_filters_name_the_field(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    answer = await client.get("/api/v1/audit", params=params)
    # A parameter the route does not declare is a bad request (400); a bad value is 422.
    assert answer.status_code == (422 if field in KNOWN else 400)
    assert answer.json()["error"]["field"] == field


async def test_dashboard_changes_name_the_user_and_show_on_the_audit_page(
    dash: httpx.AsyncClient,  # noqa: F811
    store: Store,
) -> None:
    data = {"destination": "https://shop.example/", "code": "spring", "csrf": await token(dash)}
    assert (await dash.post("/dashboard/links/new", data=data)).status_code == 303
    keys_page = await dash.get("/dashboard/keys")
    made = await dash.post(
        "/dashboard/keys",
        data={"csrf": csrf_of(keys_page.text), "name": "ci", "scope": "links:read"},
    )
    prefix = re.search(r"fm_([0-9A-Za-z]{8})_", made.text)
    assert prefix is not None
    revoke = await dash.post(
        f"/dashboard/keys/{prefix.group(1)}/revoke",
        data={"csrf": csrf_of(made.text), "confirm": "yes"},
    )
    assert revoke.status_code == 303
    found, total = await store.list_audit(audit.Query())
    assert total == 3
    assert [(e.actor, e.action, e.object_kind) for e in found] == [
        ("user:admin", "revoke", "key"),
        ("user:admin", "create", "key"),
        ("user:admin", "create", "link"),
    ]
    page = await dash.get("/dashboard/audit", params={"object_kind": "key"})
    assert page.status_code == 200
    rows = re.findall(r"<tr><th scope=\"row\">", page.text)
    assert len(rows) == 2 and "revoke" in page.text and "user:admin" in page.text
    bad = await dash.get("/dashboard/audit", params={"object_kind": "visitor"})
    assert bad.status_code == 422 and "object_kind must be one of" in bad.text


async def test_the_audit_page_pages(dash: httpx.AsyncClient, store: Store) -> None:  # noqa: F811
    for n in range(60):
        await store.insert_audit(audit.Entry("cli", "create", "link", str(n), ts=1000.0 + n))
    first = (await dash.get("/dashboard/audit")).text
    assert "Page 1 of 2" in first and 'rel="next"' in first and "<code>59</code>" in first
    second = (await dash.get("/dashboard/audit", params={"page": "2"})).text
    assert (
        "Page 2 of 2" in second and "<code>9</code>" in second and "<code>10</code>" not in second
    )


def test_cli_key_and_password_changes_are_recorded(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIRSTMARK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FIRSTMARK_SECRET_KEY", "test-secret")
    assert main(["init", "--username", "root", "--password", "long enough pass"]) == 0
    init_prefix = capsys.readouterr().out.strip().split("_")[1]
    assert main(["keys", "create", "--scope", "links:read", "--name", "ci"]) == 0
    shown = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["keys", "revoke", shown]) == 0
    assert main(["user", "password", "root", "--password", "another long pass"]) == 0
    assert main(["link", "create", "https://a.example/", "--code", "cli1"]) == 0
    assert main(["link", "archive", "cli1"]) == 0
    capsys.readouterr()
    assert main(["privacy", "erase", "--kind", "visitor_id", "v-1", "--json"]) == 0
    assert '"tables": {}' in capsys.readouterr().out

    import asyncio

    from firstmark.store import create_store

    async def listed() -> list[tuple[str, str, str, str | None]]:
        store = create_store(settings.database_url)
        await store.open()
        try:
            found, _ = await store.list_audit(audit.Query())
        finally:
            await store.close()
        return [(e.actor, e.action, e.object_kind, e.object_id) for e in found]

    prefix = shown.split("_")[1]
    assert asyncio.run(listed()) == [
        ("cli", "erase", "privacy", "visitor_id"),
        ("cli", "archive", "link", "1"),
        ("cli", "create", "link", "1"),
        ("cli", "password", "user", "root"),
        ("cli", "revoke", "key", prefix),
        ("cli", "create", "key", prefix),
        ("cli", "create", "key", init_prefix),
        ("cli", "create", "user", "root"),
    ]


@pytest.mark.parametrize("path", ["/dashboard/privacy", "/dashboard/audit"])
async def test_the_pages_need_a_login(app: Any, path: str) -> None:
    async with await make_client(app) as http:
        answer = await http.get(path)
        assert answer.status_code == 303 and "/dashboard/login" in answer.headers["location"]
        refused = await http.post(
            path, data={"kind": "visitor_id", "value": "v", "action": "erase"}
        )
        # No session, no erasure: the form posts to the login page (the audit page takes no POST).
        assert refused.status_code == (303 if path.endswith("privacy") else 405)


async def test_qr_placements_and_events_are_link_changes(client: httpx.AsyncClient) -> None:
    made = await client.post("/api/v1/links", json={"destination": "https://a.example/"})
    link_id = made.json()["id"]
    placed = await client.post(f"/api/v1/links/{link_id}/placements", json={"name": "poster-1"})
    assert placed.status_code == 201, placed.text
    event = {"starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T18:00:00Z",
             "during_url": "https://a.example/live"}  # fmt: skip
    assert (await client.put(f"/api/v1/links/{link_id}/event", json=event)).status_code == 200
    assert (await client.delete(f"/api/v1/links/{link_id}/event")).status_code == 204
    items = await entries(client, object_id=str(link_id))
    assert shape(items) == [
        ("delete_event", "link", str(link_id)),
        ("set_event", "link", str(link_id)),
        ("add_placements", "link", str(link_id)),
        ("create", "link", str(link_id)),
    ]
    assert items[2]["detail"] == {"count": 1}
