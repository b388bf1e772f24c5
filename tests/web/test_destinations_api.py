"""The destinations API: credentials sealed at rest and never shown, strict bodies, consent
deciding what is queued, the delivery log, replay, test events and outbox metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from firstmark.config import Settings
from firstmark.forward.worker import Forwarder

TOKEN = "EAAB-very-secret-token-987"
META: dict[str, Any] = {
    "platform": "meta",
    "name": "Meta EU",
    "credentials": {"pixel_id": "1234567890", "access_token": TOKEN},
    "goals": {"purchase": "Purchase"},
    "options": {"limited_data_use": True, "test_event_code": "TEST42"},
}
ADS = {"ad_user_data": "granted", "ad_personalization": "denied", "analytics_storage": "granted"}


@pytest.fixture
async def goal(client: httpx.AsyncClient) -> str:
    answer = await client.post("/api/v1/goals", json={"name": "purchase"})
    assert answer.status_code == 201, answer.text
    return "purchase"


@pytest.fixture
async def dest(client: httpx.AsyncClient, goal: str) -> dict[str, Any]:
    answer = await client.post("/api/v1/destinations", json=META)
    assert answer.status_code == 201, answer.text
    data: dict[str, Any] = answer.json()
    return data


def use_platform(app: Any, handler: Callable[[httpx.Request], httpx.Response]) -> Forwarder:
    forwarder: Forwarder = app.state.runtime.forwarder
    forwarder.client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return forwarder


async def test_credentials_are_sealed_at_rest_and_never_returned(
    client: httpx.AsyncClient, dest: dict[str, Any], settings: Settings, app: Any
) -> None:
    assert dest["credentials"] == {"access_token": "set", "pixel_id": "set"}
    assert dest["outbox"] == {"pending": 0, "sending": 0, "sent": 0, "retry": 0, "dead": 0}
    assert dest["options"]["limited_data_use"] is True and dest["enabled"] is True
    for url in ("/api/v1/destinations", f"/api/v1/destinations/{dest['id']}"):
        answer = await client.get(url)
        assert answer.status_code == 200 and TOKEN not in answer.text
    db = Path(settings.database_url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    assert TOKEN.encode() not in stored and b"1234567890" not in stored
    stored_dest = await app.state.runtime.store.get_destination(dest["id"])
    opened = app.state.runtime.credentials_sealer.open(stored_dest.credentials_sealed)
    assert opened == META["credentials"]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"platform": "myspace"}, "platform", "invalid_field"),
        ({"credentials": {"pixel_id": "1"}}, "credentials.access_token", "required"),
        (
            {"credentials": {**META["credentials"], "password": "x"}},
            "credentials.password",
            "unknown_field",
        ),
        ({"goals": {"signup": "Lead"}}, "goals.signup", "unknown_goal"),
        ({"goals": {"purchase": ""}}, "goals.purchase", "invalid_field"),
        ({"endpoint_base": "ftp://proxy"}, "endpoint_base", "invalid_field"),
        ({"endpoint_base": "https://user:pw@proxy.example"}, "endpoint_base", "invalid_field"),
        ({"options": {"ldu": True}}, "options.ldu", "unknown_field"),
        ({"options": {"limited_data_use": "yes"}}, "options.limited_data_use", "invalid_field"),
        ({"test_mode": "on"}, "test_mode", "invalid_type"),
        ({"colour": "blue"}, "colour", "unknown_field"),
    ],
)
async def test_bad_bodies_are_refused_and_store_nothing(
    client: httpx.AsyncClient, goal: str, change: dict[str, Any], field: str, code: str
) -> None:
    answer = await client.post("/api/v1/destinations", json={**META, **change})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field and answer.json()["error"]["code"] == code
    assert (await client.get("/api/v1/destinations")).json()["items"] == []


async def test_patch_changes_what_is_given_and_keeps_the_rest(
    client: httpx.AsyncClient, dest: dict[str, Any], app: Any
) -> None:
    url = f"/api/v1/destinations/{dest['id']}"
    answer = await client.patch(url, json={"credentials": {"access_token": "new-token"}})
    assert answer.status_code == 200, answer.text
    stored = await app.state.runtime.store.get_destination(dest["id"])
    opened = app.state.runtime.credentials_sealer.open(stored.credentials_sealed)
    assert opened == {"pixel_id": "1234567890", "access_token": "new-token"}
    answer = await client.patch(url, json={"enabled": False, "test_mode": True})
    assert answer.json()["enabled"] is False and answer.json()["test_mode"] is True
    assert answer.json()["goals"] == {"purchase": "Purchase"}
    refused = await client.patch(url, json={"platform": "tiktok"})
    assert refused.status_code == 422
    assert (await client.patch("/api/v1/destinations/999", json={})).status_code == 404
    assert (await client.delete(url)).status_code == 204
    assert (await client.get(url)).status_code == 404


async def test_a_name_is_taken_once(client: httpx.AsyncClient, dest: dict[str, Any]) -> None:
    answer = await client.post("/api/v1/destinations", json=META)
    assert answer.status_code == 409 and answer.json()["error"]["field"] == "name"


async def test_only_admin_keys_manage_destinations(
    app: Any, make_key: Callable[..., Any], goal: str
) -> None:
    key = await make_key("reports:read", "events:write")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://fm.test", headers={"authorization": f"Bearer {key}"}
    ) as http:
        assert (await http.post("/api/v1/destinations", json=META)).status_code == 403
        assert (await http.get("/api/v1/destinations")).status_code == 403


@pytest.mark.parametrize(
    ("extra", "queued"),
    [
        ({"consent": ADS}, 1),
        ({"consent": ADS, "gpc": True}, 0),
        ({"consent": {"analytics_storage": "granted"}}, 0),
        ({}, 0),
    ],
)
async def test_consent_decides_what_is_queued(
    client: httpx.AsyncClient, dest: dict[str, Any], extra: dict[str, Any], queued: int
) -> None:
    body = {"event_id": "order-1", "goal": "purchase", "client_ip": "203.0.113.50", **extra}
    answer = await client.post("/api/v1/conversions", json=body)
    assert answer.status_code == 201, answer.text
    counts = (await client.get(f"/api/v1/destinations/{dest['id']}")).json()["outbox"]
    assert counts["pending"] == queued


async def test_deliveries_replay_and_metrics(
    client: httpx.AsyncClient, dest: dict[str, Any], app: Any
) -> None:
    answers = [
        httpx.Response(400, json={"error": {"message": "Invalid pixel", "code": 100}}),
        httpx.Response(200, json={"events_received": 1}),
    ]
    forwarder = use_platform(app, lambda request: answers.pop(0))
    await client.post(
        "/api/v1/conversions", json={"event_id": "order-1", "goal": "purchase", "consent": ADS}
    )
    await forwarder.drain()
    url = f"/api/v1/destinations/{dest['id']}"
    log = (await client.get(f"{url}/deliveries")).json()
    [entry] = log["items"]
    assert entry["status"] == "dead" and entry["http_status"] == 400
    assert entry["event_id"] == "order-1" and "Invalid pixel" in entry["error"]
    assert entry["attempt"] == 1
    assert log["next_before"] is None
    metrics = (await client.get("/metrics")).text
    assert 'firstmark_outbox_rows{status="dead"} 1' in metrics
    assert 'firstmark_forward_events_total{result="dead"} 1' in metrics
    assert (await client.post(f"{url}/replay")).json() == {"replayed": 1}
    await forwarder.drain()
    log = (await client.get(f"{url}/deliveries", params={"limit": 1})).json()
    assert [e["status"] for e in log["items"]] == ["sent"] and log["next_before"] is not None
    assert log["items"][0]["attempt"] == 1  # a replay starts counting again
    older = (await client.get(f"{url}/deliveries", params={"before": log["next_before"]})).json()
    assert [e["status"] for e in older["items"]] == ["dead"]
    assert (await client.get(f"{url}/deliveries", params={"page": 2})).status_code == 400
    metrics = (await client.get("/metrics")).text
    assert 'firstmark_outbox_rows{status="sent"} 1' in metrics
    await forwarder.client.aclose()


async def test_a_test_event_goes_in_the_platforms_test_mode(
    client: httpx.AsyncClient, dest: dict[str, Any], app: Any
) -> None:
    seen: list[dict[str, Any]] = []

    def platform(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={"events_received": 1, "fbtrace_id": "AbC"})

    forwarder = use_platform(app, platform)
    answer = await client.post(f"/api/v1/destinations/{dest['id']}/test")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["status"] == "sent" and data["http_status"] == 200
    assert data["platform_test_mode"] is True and data["answer"] == "HTTP 200 OK"
    assert "fbtrace_id" not in answer.text  # the remote body is never echoed
    assert seen[0]["test_event_code"] == "TEST42"
    assert seen[0]["data"][0]["event_id"] == data["event_id"]
    assert TOKEN not in answer.text
    await forwarder.client.aclose()


async def test_a_web_conversion_is_forwarded_with_its_click_ids_and_client_data(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, dest: dict[str, Any], app: Any,
    settings: Settings,
) -> None:  # fmt: skip
    site = await client.post("/api/v1/sites", json={"hosts": ["shop.example"]})
    consent = {"analytics_storage": "granted", "ad_storage": "granted", "ad_user_data": "granted"}
    body = {"site": site.json()["key"], "type": "conversion", "name": "purchase",
            "url": "https://shop.example/thanks?order=9&email=a@b.c", "event_id": "web-9",
            "consent": consent, "vid": "visitor-123456", "value": 30, "currency": "EUR",
            "landing": {"fbclid": "IwAR-web"}}  # fmt: skip
    ua = "Mozilla/5.0 (X11; Linux x86_64) WebConversionAgent/1.0"
    answer = await anon.post(
        "/e", content=json.dumps(body).encode(),
        headers={"content-type": "text/plain", "origin": "https://shop.example", "user-agent": ua},
    )  # fmt: skip
    assert answer.status_code == 202
    await app.state.runtime.event_writer.drain()
    db = Path(settings.database_url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    assert b"WebConversionAgent" not in stored and b"203.0.113.7" not in stored
    seen: list[dict[str, Any]] = []

    def platform(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={"events_received": 1})

    forwarder = use_platform(app, platform)
    assert await forwarder.drain() == 1
    [event] = seen[0]["data"]
    assert event["event_id"] == "web-9" and event["action_source"] == "website"
    assert event["event_source_url"] == "https://shop.example/thanks"
    user = event["user_data"]
    assert user["client_ip_address"] == "203.0.113.7" and user["client_user_agent"] == ua
    created = int(user["fbc"].split(".")[2])
    assert user["fbc"] == f"fb.1.{created}.IwAR-web" and abs(created / 1000 - time.time()) < 60
    await forwarder.client.aclose()
