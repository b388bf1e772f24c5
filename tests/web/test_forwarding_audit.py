"""The forwarding audit: every attempt says what it sent (names, never values) and what the
platform said; the log filters across destinations; a daily match-quality summary with
hints; the queue and dead rows; one dead row replayed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from firstmark.forward.worker import Forwarder

TOKEN = "EAAB-audit-secret-token-123"
META: dict[str, Any] = {
    "platform": "meta",
    "name": "Meta audit",
    "credentials": {"pixel_id": "1234567890", "access_token": TOKEN},
    "goals": {"purchase": "Purchase"},
}
ADS = {"ad_user_data": "granted", "analytics_storage": "granted"}


@pytest.fixture
async def dest(client: httpx.AsyncClient) -> dict[str, Any]:
    assert (await client.post("/api/v1/goals", json={"name": "purchase"})).status_code == 201
    answer = await client.post("/api/v1/destinations", json=META)
    assert answer.status_code == 201, answer.text
    data: dict[str, Any] = answer.json()
    return data


def platform_answers(app: Any, *answers: httpx.Response) -> Forwarder:
    queue = list(answers)
    forwarder: Forwarder = app.state.runtime.forwarder
    forwarder.client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: queue.pop(0)))
    return forwarder


async def convert(client: httpx.AsyncClient, event_id: str, **extra: Any) -> None:
    body = {"event_id": event_id, "goal": "purchase", "consent": ADS, **extra}
    answer = await client.post("/api/v1/conversions", json=body)
    assert answer.status_code == 201, answer.text


async def test_each_attempt_records_what_it_sent_and_the_platforms_request_id(
    client: httpx.AsyncClient, dest: dict[str, Any], app: Any
) -> None:
    email = "jane@example.com"
    await convert(client, "order-1", user_data={"email": email}, click_ids={"fbclid": "IwAR"})
    forwarder = platform_answers(
        app, httpx.Response(200, json={"events_received": 1, "fbtrace_id": "TRACE-1"})
    )
    await forwarder.drain()
    answer = await client.get("/api/v1/deliveries")
    assert answer.status_code == 200, answer.text
    [entry] = answer.json()["items"]
    assert entry["destination_id"] == dest["id"] and entry["event_id"] == "order-1"
    assert entry["status"] == "sent" and entry["http_status"] == 200
    assert entry["api_version"] == "meta v25.0"
    assert entry["consent"] == "analytics,ad_user_data"
    assert "em" in entry["identifiers"] and "fbclid" in entry["identifiers"]
    assert entry["request_id"] == "TRACE-1"
    assert email not in answer.text and "IwAR" not in answer.text and TOKEN not in answer.text
    await forwarder.client.aclose()


async def test_deliveries_filter_and_page(
    client: httpx.AsyncClient, dest: dict[str, Any], app: Any
) -> None:
    for n in range(3):
        await convert(client, f"order-{n}", user_data={"email": f"u{n}@example.com"})
    forwarder = platform_answers(
        app, httpx.Response(400, json={"error": {"message": "Invalid pixel", "code": 100}})
    )
    await forwarder.drain()
    dead = (await client.get("/api/v1/deliveries", params={"status": "dead"})).json()
    assert len(dead["items"]) == 3
    assert (await client.get("/api/v1/deliveries", params={"status": "sent"})).json()["items"] == []
    one = (await client.get("/api/v1/deliveries", params={"event_id": "order-1"})).json()
    assert [e["event_id"] for e in one["items"]] == ["order-1"]
    page = (await client.get("/api/v1/deliveries", params={"limit": 2})).json()
    assert len(page["items"]) == 2 and page["next_before"] is not None
    rest = await client.get("/api/v1/deliveries", params={"before": page["next_before"]})
    assert len(rest.json()["items"]) == 1
    later = await client.get("/api/v1/deliveries", params={"from": "2099-01-01"})
    assert later.json()["items"] == []
    other = await client.get("/api/v1/deliveries", params={"destination": dest["id"] + 1})
    assert other.json()["items"] == []
    for params, field in (
        ({"status": "lost"}, "status"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-01-02", "to": "2026-01-01"}, "from"),
        ({"colour": "red"}, "colour"),
    ):
        refused = await client.get("/api/v1/deliveries", params=params)
        unknown = field == "colour"  # a parameter the route does not take: 400
        assert refused.status_code == (400 if unknown else 422)
        assert refused.json()["error"]["field"] == field
    await forwarder.client.aclose()


async def test_daily_match_quality_with_hints(
    client: httpx.AsyncClient, dest: dict[str, Any], app: Any
) -> None:
    # 25 conversions: 10 with an fbclid, all with an email.
    for n in range(25):
        clicks = {"fbclid": f"IwAR{n}"} if n < 10 else {}
        await convert(client, f"o-{n}", user_data={"email": f"u{n}@example.com"}, click_ids=clicks)
    forwarder = platform_answers(app, httpx.Response(200, json={"events_received": 25}))
    await forwarder.drain()
    answer = await client.get(f"/api/v1/destinations/{dest['id']}/quality")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    [day] = data["days"]
    assert day["attempts"] == 25 and day["sent"] == 25 and day["dead"] == 0
    assert day["identifiers"]["fbc"] == 0.4 and day["identifiers"]["em"] == 1.0
    assert "60 % of meta events had no fbc" in data["hints"]
    assert not any("no em" in hint for hint in data["hints"])
    missing = await client.get("/api/v1/destinations/999/quality")
    assert missing.status_code == 404
    too_long = await client.get(
        f"/api/v1/destinations/{dest['id']}/quality", params={"from": "2025-01-01"}
    )
    assert too_long.status_code == 422
    await forwarder.client.aclose()


async def test_dead_rows_are_listed_and_replayed_one_by_one(
    client: httpx.AsyncClient, dest: dict[str, Any], app: Any
) -> None:
    await convert(client, "order-a", user_data={"email": "a@example.com"})
    await convert(client, "order-b", user_data={"email": "b@example.com"})
    queued = (await client.get("/api/v1/outbox", params={"status": "pending"})).json()["items"]
    assert len(queued) == 2
    forwarder = platform_answers(
        app,
        httpx.Response(400, json={"error": {"message": "Invalid pixel", "code": 100}}),
        httpx.Response(200, json={"events_received": 1}),
    )
    await forwarder.drain()
    dead = (await client.get("/api/v1/outbox", params={"status": "dead"})).json()["items"]
    assert {row["event_id"] for row in dead} == {"order-a", "order-b"}
    assert all("Invalid pixel" in row["last_error"] for row in dead)
    first = dead[0]
    replayed = await client.post(f"/api/v1/outbox/{first['id']}/replay")
    assert replayed.status_code == 200 and replayed.json() == {"replayed": 1}
    assert (await client.post(f"/api/v1/outbox/{first['id']}/replay")).status_code == 404
    await forwarder.drain()
    still_dead = (await client.get("/api/v1/outbox", params={"status": "dead"})).json()["items"]
    assert [row["id"] for row in still_dead] == [dead[1]["id"]]
    sent = (await client.get("/api/v1/deliveries", params={"status": "sent"})).json()["items"]
    assert [e["event_id"] for e in sent] == [first["event_id"]]
    assert (await client.get("/api/v1/outbox", params={"status": "gone"})).status_code == 422
    await forwarder.client.aclose()


async def test_replaying_a_row_takes_an_admin_key(
    app: Any, make_key: Callable[..., Any], dest: dict[str, Any]
) -> None:
    key = await make_key("reports:read")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://fm.test", headers={"authorization": f"Bearer {key}"}
    ) as http:
        assert (await http.get("/api/v1/deliveries")).status_code == 200
        assert (await http.post("/api/v1/outbox/1/replay")).status_code == 403
