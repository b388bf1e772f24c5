"""/api/v1/webhooks: an endpoint is added with its secret shown once, listed, changed,
rotated, tested, its delivery log read, and removed; bad input names the field; loopback
URLs need FIRSTMARK_WEBHOOK_ALLOW_PRIVATE."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest

from firstmark.store import Store

URL = "http://127.0.0.1:9/hooks"


def allow_private(app: Any) -> None:
    rt = app.state.runtime
    app.state.runtime = replace(rt, settings=replace(rt.settings, webhook_allow_private=True))


async def test_an_endpoint_from_creation_to_removal(
    app: Any, client: httpx.AsyncClient, store: Store
) -> None:
    allow_private(app)
    created = await client.post("/api/v1/webhooks", json={"url": URL, "events": ["lead.created"]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["lead.created"] and body["click_mode"] == "aggregate"
    path = f"/api/v1/webhooks/{body['id']}"

    shown = (await client.get(path)).json()
    assert "secret" not in shown and shown["url"] == URL
    listed = (await client.get("/api/v1/webhooks")).json()["items"]
    assert [w["id"] for w in listed] == [body["id"]] and "secret" not in listed[0]

    patched = await client.patch(
        path, json={"events": ["link.clicked", "qr.scanned"], "click_mode": "sample",
                    "sample_every": 10},
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert patched.json()["events"] == ["link.clicked", "qr.scanned"]
    assert patched.json()["sample_every"] == 10

    rotated = await client.post(f"{path}/rotate")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != body["secret"]
    assert rotated.json()["previous_secret_valid_until"] is not None

    tested = await client.post(f"{path}/test")
    assert tested.status_code == 202 and tested.json() == {"queued": 1}
    assert (await client.get(path)).json()["queue"] == {"pending": 1}
    assert (await client.get(f"{path}/deliveries")).json() == {"items": [], "next_before": None}

    audit = (await client.get("/api/v1/audit", params={"object_kind": "webhook"})).json()
    assert sorted(e["action"] for e in audit["items"]) == ["create", "rotate", "update"]

    assert (await client.delete(path)).status_code == 204
    assert (await client.get(path)).status_code == 404
    assert await store.list_webhooks() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["lead.created"]}, "url"),
        ({"url": "https://hooks.example/x"}, "events"),
        ({"url": "ftp://hooks.example/x", "events": ["lead.created"]}, "url"),
        ({"url": "https://hooks.example/x", "events": []}, "events"),
        ({"url": "https://hooks.example/x", "events": ["link.deleted"]}, "events[0]"),
        ({"url": "https://a:b@hooks.example/", "events": ["lead.created"]}, "url"),
        ({"url": URL, "events": ["lead.created"], "click_mode": "all"}, "click_mode"),
    ],
)
async def test_bad_input_names_the_field(
    app: Any, client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    allow_private(app)
    answer = await client.post("/api/v1/webhooks", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field


async def test_loopback_is_refused_by_default(client: httpx.AsyncClient, store: Store) -> None:
    answer = await client.post("/api/v1/webhooks", json={"url": URL, "events": ["lead.created"]})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "url"
    assert "FIRSTMARK_WEBHOOK_ALLOW_PRIVATE" in answer.json()["error"]["message"]
    assert await store.list_webhooks() == []


async def test_webhooks_need_an_admin_key(app: Any, make_key: Any) -> None:
    key = await make_key("links:write", "reports:read")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://fm.test", headers={"authorization": f"Bearer {key}"}
    ) as http:
        assert (await http.get("/api/v1/webhooks")).status_code == 403
