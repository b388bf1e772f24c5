"""POST /api/v1/conversions: idempotent by event_id (and order_id per goal), consent-gated
user data, click tokens tied to their link; list and detail show the attribution."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from firstmark.domain.clicks import ClickSigner
from firstmark.store import Store

ADS = {"ad_user_data": "granted", "ad_personalization": "denied", "analytics_storage": "granted"}


@pytest.fixture
async def goal(client: httpx.AsyncClient) -> str:
    body = {"name": "purchase", "default_value": 49, "currency": "EUR", "window_days": 60}
    answer = await client.post("/api/v1/goals", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["window_days"] == 60 and answer.json()["kind"] == "macro"
    return "purchase"


async def count(store: Store) -> int:
    return (await store.list_conversions(None, 1, 0))[1]


async def test_a_repeated_event_id_is_accepted_and_not_stored_twice(
    client: httpx.AsyncClient, store: Store, goal: str
) -> None:
    body = {"event_id": "order-1001", "goal": goal, "value": 120.5, "currency": "nok"}
    first = await client.post("/api/v1/conversions", json=body)
    assert first.status_code == 201, first.text
    assert first.json()["duplicate"] is False and first.json()["currency"] == "NOK"
    again = await client.post("/api/v1/conversions", json={**body, "value": 1})
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["id"] == first.json()["id"] and again.json()["value"] == 120.5
    assert await count(store) == 1


async def test_an_order_counts_once_per_goal(
    client: httpx.AsyncClient, store: Store, goal: str
) -> None:
    one = await client.post(
        "/api/v1/conversions", json={"event_id": "a1", "goal": goal, "order_id": "O-7"}
    )
    two = await client.post(
        "/api/v1/conversions", json={"event_id": "a2", "goal": goal, "order_id": "O-7"}
    )
    assert (one.status_code, two.status_code) == (201, 200)
    assert two.json()["duplicate"] is True and two.json()["event_id"] == "a1"
    assert one.json()["value"] == 49.0  # the goal's default value
    assert await count(store) == 1


async def test_user_data_is_hashed_and_kept_only_with_ad_consent(
    client: httpx.AsyncClient, store: Store, goal: str
) -> None:
    user = {"email": " Jane.Doe+x@GMail.com ", "phone": "+47 912 34 567", "first_name": "Jane"}
    with_consent = await client.post(
        "/api/v1/conversions",
        json={"event_id": "u1", "goal": goal, "user_data": user, "consent": ADS,
              "client_ip": "198.51.100.23", "user_agent": "Mozilla/5.0 Test"},
    )  # fmt: skip
    without = await client.post(
        "/api/v1/conversions", json={"event_id": "u2", "goal": goal, "user_data": user}
    )
    assert with_consent.status_code == 201 and without.status_code == 201
    assert with_consent.json()["user_data"] == [
        "em", "em_canonical", "em_google", "fn", "ph", "ph_e164",
    ]  # fmt: skip
    assert without.json()["user_data"] == []
    saved = await store.get_conversion(with_consent.json()["id"])
    assert saved is not None

    def sha(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    assert saved.user_data["em"] == sha("jane.doe+x@gmail.com")
    assert saved.user_data["em_google"] == sha("janedoe@gmail.com")
    assert saved.user_data["ph"] == sha("4791234567")
    assert saved.user_data["ph_e164"] == sha("+4791234567")
    assert saved.user_data["fn"] == sha("jane")
    text = repr(saved) + repr(await store.get_conversion(without.json()["id"]))
    for clear in ("jane", "Jane", "91234567", "198.51.100.23", "Mozilla"):
        assert clear not in text


async def test_gpc_overrides_the_consent_object(client: httpx.AsyncClient, goal: str) -> None:
    answer = await client.post(
        "/api/v1/conversions",
        json={"event_id": "g1", "goal": goal, "consent": ADS, "gpc": True, "visitor_id":
              "visitor-123456", "user_data": {"email": "a@b.example"}},
    )  # fmt: skip
    assert answer.status_code == 201
    assert answer.json()["user_data"] == [] and answer.json()["visitor_id"] is None
    assert answer.json()["consent"]["gpc"] is True


async def test_a_click_token_ties_the_conversion_to_its_link(
    client: httpx.AsyncClient, goal: str
) -> None:
    created = await client.post(
        "/api/v1/links",
        json={"destination": "https://shop.example/", "placement": "poster-oslo-s",
              "campaign": "spring", "code": "spring1"},
    )  # fmt: skip
    link_id = created.json()["id"]
    token = ClickSigner("test-secret").token(link_id, time.time() - 60)
    answer = await client.post(
        "/api/v1/conversions", json={"event_id": "c1", "goal": goal, "click_token": token}
    )
    assert answer.status_code == 201, answer.text
    attribution = answer.json()["attribution"]
    assert attribution["link_id"] == link_id and attribution["link_code"] == "spring1"
    assert attribution["placement"] == "poster-oslo-s" and attribution["campaign"] == "spring"
    detail = await client.get(f"/api/v1/conversions/{answer.json()['id']}")
    assert detail.json()["attribution"] == attribution
    assert (await client.get("/api/v1/conversions/999")).status_code == 404
    listed = await client.get("/api/v1/conversions", params={"goal": goal})
    assert [c["event_id"] for c in listed.json()["items"]] == ["c1"]


def future() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 86400))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_id": None}, "event_id"),
        ({"event_id": "has space"}, "event_id"),
        ({"goal": "nope"}, "goal"),
        ({"currency": "EURO", "value": 1}, "currency"),
        ({"value": 5}, "currency"),  # a value needs its currency
        ({"value": -1, "currency": "EUR"}, "value"),
        ({"value": "9", "currency": "EUR"}, "value"),
        ({"ts": "2026-11-25T12:00:00"}, "ts"),
        ({"ts": "yesterday"}, "ts"),
        ({"ts": future()}, "ts"),
        ({"ts": time.time() + 86400}, "ts"),
        ({"click_token": "1.2.3.forged"}, "click_token"),
        ({"consent": {"ad_user_data": "maybe"}}, "consent.ad_user_data"),
        ({"user_data": {"email": "not-an-email"}}, "user_data.email"),
        ({"user_data": {"phone": "912 34 567"}}, "user_data.phone"),
        ({"user_data": {"ssn": "x"}}, "user_data.ssn"),
        ({"unknown": 1}, "unknown"),
    ],
)
async def test_bad_conversions_are_refused_naming_the_field(
    client: httpx.AsyncClient, store: Store, goal: str, change: dict[str, Any], field: str
) -> None:
    body = {"event_id": "x1", "goal": goal, **change}
    body = {k: v for k, v in body.items() if v is not None}
    answer = await client.post("/api/v1/conversions", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert await count(store) == 0


async def test_timestamps_with_offset_or_epoch_are_accepted(
    client: httpx.AsyncClient, goal: str
) -> None:
    iso = await client.post(
        "/api/v1/conversions",
        json={"event_id": "t1", "goal": goal, "ts": "2026-01-02T03:04:05+01:00"},
    )
    epoch = await client.post(
        "/api/v1/conversions", json={"event_id": "t2", "goal": goal, "ts": 1767319445}
    )
    assert (
        iso.json()["ts"] == "2026-01-02T02:04:05Z" and epoch.json()["ts"] == "2026-01-02T02:04:05Z"
    )


async def test_a_batch_is_checked_whole_then_stored(
    client: httpx.AsyncClient, store: Store, goal: str
) -> None:
    items = [{"event_id": f"b{i}", "goal": goal} for i in range(5)]
    bad = await client.post(
        "/api/v1/conversions", json={"conversions": [*items, {"event_id": "b9", "goal": goal,
                                                              "currency": "XYZ", "value": 1}]}
    )  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "conversions[5].currency"
    assert await count(store) == 0
    good = await client.post("/api/v1/conversions", json={"conversions": [*items, items[0]]})
    assert good.status_code == 200
    assert (good.json()["stored"], good.json()["duplicates"]) == (5, 1)
    too_many = await client.post("/api/v1/conversions", json={"conversions": [items[0]] * 1001})
    assert too_many.status_code == 422 and too_many.json()["error"]["field"] == "conversions"
    assert await count(store) == 5


async def test_conversions_need_the_events_write_scope(
    app: Any, make_key: Callable[..., Any], goal: str
) -> None:
    transport = httpx.ASGITransport(app=app)
    for scopes, status in ((("links:write",), 403), (("events:write",), 201)):
        key = await make_key(*scopes)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://fm.test",
            headers={"authorization": f"Bearer {key}"},
        ) as http:  # fmt: skip
            answer = await http.post(
                "/api/v1/conversions", json={"event_id": f"s{status}", "goal": goal}
            )
            assert answer.status_code == status
    async with httpx.AsyncClient(transport=transport, base_url="http://fm.test") as http:
        assert (await http.post("/api/v1/conversions", json={})).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "bad name!"}, "name"),
        ({"name": "g", "kind": "mega"}, "kind"),
        ({"name": "g", "window_days": 0}, "window_days"),
        ({"name": "g", "window_days": 366}, "window_days"),
        ({"name": "g", "default_value": 5}, "currency"),
        ({"name": "g", "currency": "ABC"}, "currency"),
        ({"name": "g", "colour": "red"}, "colour"),
    ],
)
async def test_bad_goals_are_refused(
    client: httpx.AsyncClient, store: Store, body: dict[str, Any], field: str
) -> None:
    answer = await client.post("/api/v1/goals", json=body)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == field
    assert await store.list_goals() == []


async def test_sites_and_goals_are_listed_and_names_stay_unique(
    client: httpx.AsyncClient,
) -> None:
    made = await client.post("/api/v1/sites", json={"name": "Shop", "hosts": ["Shop.Example."]})
    assert made.status_code == 201 and made.json()["hosts"] == ["shop.example"]
    assert made.json()["key"] in made.json()["snippet"]
    again = await client.post("/api/v1/sites", json={"hosts": ["shop.example"]})
    assert again.status_code == 409 and again.json()["error"]["field"] == "hosts"
    bad = await client.post("/api/v1/sites", json={"hosts": []})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "hosts"
    listed = await client.get("/api/v1/sites")
    assert [s["name"] for s in listed.json()["items"]] == ["Shop"]
    site_id = made.json()["id"]
    moved = await client.patch(f"/api/v1/sites/{site_id}", json={"hosts": ["m.shop.example"]})
    assert moved.status_code == 200 and moved.json()["hosts"] == ["m.shop.example"]
    assert (
        await client.patch("/api/v1/sites/99", json={"hosts": ["x.example"]})
    ).status_code == 404
    wrong = await client.patch(f"/api/v1/sites/{site_id}", json={"name": "x"})
    assert wrong.status_code == 422
    assert (await client.post("/api/v1/goals", json={"name": "lead"})).status_code == 201
    assert (await client.post("/api/v1/goals", json={"name": "lead"})).status_code == 409
    goals = await client.get("/api/v1/goals")
    assert [g["name"] for g in goals.json()["items"]] == ["lead"]


async def test_deeply_nested_json_is_a_bad_body(client: httpx.AsyncClient, store: Store) -> None:
    answer = await client.post("/api/v1/conversions", content=b"[" * 20_000)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_body"
    assert await count(store) == 0
