"""The numbers and pools API: registration, clear errors that store nothing, release."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from firstmark.store import Store


def body(**kw: object) -> dict[str, object]:
    return {"number": "+1 415 555 0123", "provider": "twilio", "forward_to": "+14155550199", **kw}


async def test_a_number_is_registered_listed_changed_and_released(
    client: httpx.AsyncClient, store: Store
) -> None:
    response = await client.post("/api/v1/numbers", json=body(label="Spring poster"))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["number"] == "+14155550123" and created["display"] == "+1 415-555-0123"
    assert created["kind"] == "static" and created["qualify_seconds"] == 60
    assert created["record"] is False and created["goal"] == "call"
    assert "call" in {g.name for g in await store.list_goals()}  # the goal exists for reports

    listed = (await client.get("/api/v1/numbers")).json()["items"]
    assert [n["id"] for n in listed] == [created["id"]]
    changed = await client.patch(
        f"/api/v1/numbers/{created['id']}", json={"label": "Autumn poster", "record": True}
    )
    assert changed.status_code == 200 and changed.json()["label"] == "Autumn poster"
    assert changed.json()["record"] is True

    assert (await client.delete(f"/api/v1/numbers/{created['id']}")).status_code == 204
    assert (await client.get("/api/v1/numbers")).json()["items"] == []
    released = (await client.get("/api/v1/numbers?released=true")).json()["items"]
    assert released[0]["released"] is True
    again = await client.post("/api/v1/numbers", json=body())  # the digits are free again
    assert again.status_code == 201


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [({"number": "+1 415"}, "number", "invalid_field"),
     ({"provider": "plivo"}, "provider", "unknown_provider"),
     ({"forward_to": "+14155550123"}, "forward_to", "invalid_field"),
     ({"link_id": 999}, "link_id", "unknown_link"),
     ({"goal": "nope"}, "goal", "unknown_goal"),
     ({"pool": "web", "campaign": "x"}, "pool", "invalid_field"),
     ({"shoe_size": 42}, "shoe_size", "unknown_field")],
)  # fmt: skip
async def test_bad_numbers_are_refused_naming_the_field(
    client: httpx.AsyncClient, store: Store, given: dict[str, Any], field: str, code: str
) -> None:
    response = await client.post("/api/v1/numbers", json=body(**given))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["field"], error["code"]) == (field, code)
    assert await store.list_numbers(released=True) == []


async def test_a_duplicate_number_is_a_conflict_and_changes_nothing(
    client: httpx.AsyncClient, store: Store
) -> None:
    first = (await client.post("/api/v1/numbers", json=body(label="first"))).json()
    response = await client.post("/api/v1/numbers", json=body(label="second"))
    assert response.status_code == 409
    [kept] = await store.list_numbers()
    assert kept.id == first["id"] and kept.label == "first"


async def test_a_bad_change_keeps_the_number_as_it_was(
    client: httpx.AsyncClient, store: Store
) -> None:
    created = (await client.post("/api/v1/numbers", json=body(label="kept"))).json()
    response = await client.patch(
        f"/api/v1/numbers/{created['id']}", json={"label": "new", "forward_to": "+14155550123"}
    )
    assert response.status_code == 422 and response.json()["error"]["field"] == "forward_to"
    read_only = await client.patch(f"/api/v1/numbers/{created['id']}", json={"provider": "vonage"})
    assert read_only.status_code == 422
    [kept] = await store.list_numbers()
    assert kept.label == "kept" and kept.provider == "twilio"
    missing = await client.patch("/api/v1/numbers/999", json={"label": "x"})
    assert missing.status_code == 404


async def test_pools_hold_numbers_and_a_fallback(client: httpx.AsyncClient) -> None:
    site = (await client.post("/api/v1/sites", json={"hosts": ["shop.example"]})).json()
    for last in ("01", "02", "03"):
        response = await client.post(
            "/api/v1/numbers", json=body(number=f"+1415555012{last[1]}", pool="website")
        )
        assert response.status_code == 201, response.text
    put = await client.put(
        "/api/v1/pools/website", json={"fallback": "+14155550100", "site": site["key"]}
    )
    assert put.status_code == 200, put.text
    assert put.json() == {
        "name": "website", "fallback": "+14155550100", "site_id": site["id"],
        "lease_minutes": 30, "numbers": 3, "leased": 0,
    }  # fmt: skip
    bad = await client.put("/api/v1/pools/website", json={"site": "no-such-site"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "site"
    listed = (await client.get("/api/v1/pools")).json()["items"]
    assert [(p["name"], p["fallback"]) for p in listed] == [("website", "+14155550100")]


async def test_numbers_need_a_key_with_the_right_scope(
    anon: httpx.AsyncClient, app: Any, make_key: Any
) -> None:
    assert (await anon.get("/api/v1/numbers")).status_code == 401
    key = await make_key("reports:read")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://fm.test", headers={"authorization": f"Bearer {key}"}
    ) as reader:
        assert (await reader.post("/api/v1/numbers", json=body())).status_code == 403
        assert (await reader.get("/api/v1/calls")).status_code == 200


async def test_the_calls_log_checks_its_filters(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/calls?status=maybe")
    assert response.status_code == 422 and response.json()["error"]["field"] == "status"
    response = await client.get("/api/v1/calls?colour=red")
    assert response.status_code == 400 and response.json()["error"]["field"] == "colour"
    assert (await client.get("/api/v1/calls?status=qualified")).json()["total"] == 0
