"""The channel rules API: operator rules run before the defaults, exclusions keep a payment
page from taking the credit, bad rules are refused naming the field."""

from __future__ import annotations

from typing import Any

import httpx

from firstmark.store import Store


async def test_rules_are_created_listed_applied_and_deleted(
    app: Any, client: httpx.AsyncClient, store: Store
) -> None:
    made = await client.post(
        "/api/v1/channels/rules",
        json={"field": "source", "value": "PartnerX", "channel": "Affiliates"},
    )
    assert made.status_code == 201, made.text
    rule = made.json()
    assert rule == {"id": rule["id"], "action": "channel", "field": "source",
                    "match": "equals", "value": "partnerx", "channel": "Affiliates"}  # fmt: skip
    excl = await client.post("/api/v1/channels/rules", json={"action": "exclude",
                                                             "value": "pay.example"})  # fmt: skip
    assert excl.status_code == 201 and excl.json()["field"] == "referrer"
    listed = (await client.get("/api/v1/channels/rules")).json()["items"]
    assert [r["id"] for r in listed] == [rule["id"], excl.json()["id"]]
    overview = (await client.get("/api/v1/channels")).json()
    assert "AI Assistants" in overview["channels"] and len(overview["rules"]) == 2
    # The writer sees the new rules at once.
    rules = await app.state.runtime.event_writer.rules.rules()
    assert [r.value for r in rules] == ["partnerx", "pay.example"]
    gone = await client.delete(f"/api/v1/channels/rules/{rule['id']}")
    assert gone.status_code == 204
    again = await client.delete(f"/api/v1/channels/rules/{rule['id']}")
    assert again.status_code == 404
    assert [r.value for r in await store.list_channel_rules()] == ["pay.example"]


async def test_a_bad_rule_names_the_field_and_stores_nothing(
    client: httpx.AsyncClient, store: Store
) -> None:
    answer = await client.post(
        "/api/v1/channels/rules", json={"field": "source", "value": "x", "channel": "TV"}
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "channel"
    assert await store.list_channel_rules() == []


async def test_rules_need_a_key_with_the_scope(
    anon: httpx.AsyncClient, client: httpx.AsyncClient, make_key: Any
) -> None:
    assert (await anon.get("/api/v1/channels/rules")).status_code == 401
    reader = await make_key("reports:read")
    answer = await client.post(
        "/api/v1/channels/rules",
        json={"action": "exclude", "value": "pay.example"},
        headers={"authorization": f"Bearer {reader}"},
    )
    assert answer.status_code == 403
