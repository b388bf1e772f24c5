"""Destinations whose credentials stop working, through the API: a 401 makes the destination
`needs_reauth` (API, /metrics) and its conversions wait instead of dying; new credentials
send them. And a test is a test: refused (409) without a test mechanism, never "sent" when
the platform was not reached."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from firstmark.forward.worker import Forwarder

ADS = {"ad_user_data": "granted", "ad_personalization": "granted", "analytics_storage": "granted"}
META: dict[str, Any] = {
    "platform": "meta",
    "name": "Meta",
    "credentials": {"pixel_id": "1234567890", "access_token": "EAAB-old-token-111"},
    "goals": {"purchase": "Purchase"},
}


@pytest.fixture
async def goal(client: httpx.AsyncClient) -> str:
    answer = await client.post("/api/v1/goals", json={"name": "purchase"})
    assert answer.status_code == 201, answer.text
    return "purchase"


def use_platform(app: Any, handler: Callable[[httpx.Request], httpx.Response]) -> Forwarder:
    forwarder: Forwarder = app.state.runtime.forwarder
    forwarder.client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return forwarder


async def test_a_refused_token_makes_conversions_wait_until_new_credentials(
    client: httpx.AsyncClient, goal: str, app: Any
) -> None:
    created = (await client.post("/api/v1/destinations", json=META)).json()
    assert created["auth"] == {
        "status": "ok", "error": None, "method": "access_token", "connectable": False,
    }  # fmt: skip
    received: list[str] = []

    def platform(request: httpx.Request) -> httpx.Response:
        if b"EAAB-old-token-111" in request.content:
            return httpx.Response(401, json={"error": {"message": "Session has expired"}})
        received.append(request.content.decode())
        return httpx.Response(200, json={"events_received": 1})

    forwarder = use_platform(app, platform)
    for n in range(2):
        await client.post(
            "/api/v1/conversions", json={"event_id": f"o-{n}", "goal": "purchase", "consent": ADS}
        )
    await forwarder.drain()
    url = f"/api/v1/destinations/{created['id']}"
    shown = (await client.get(url)).json()
    assert shown["auth"]["status"] == "needs_reauth"
    assert "Session has expired" in shown["auth"]["error"]
    assert "EAAB-old-token-111" not in (await client.get(url)).text
    assert shown["outbox"]["dead"] == 0 and shown["outbox"]["retry"] == 2
    metrics = (await client.get("/metrics")).text
    assert (
        f'firstmark_destination_needs_reauth{{destination="{created["id"]}",platform="meta"}} 1'
        in metrics
    )
    assert await forwarder.drain() == 0  # nothing is claimed while it waits
    patched = await client.patch(url, json={"credentials": {"access_token": "EAAB-new-token-222"}})
    assert patched.json()["auth"]["status"] == "ok"
    await forwarder.drain()
    assert len(received) == 1 and "o-0" in received[0] and "o-1" in received[0]
    assert (await client.get(url)).json()["outbox"]["sent"] == 2
    metrics = (await client.get("/metrics")).text
    assert f'destination="{created["id"]}",platform="meta"}} 0' in metrics
    await forwarder.client.aclose()


async def test_an_oauth_client_without_a_refresh_token_waits_to_be_connected(
    client: httpx.AsyncClient, goal: str
) -> None:
    body = {"platform": "linkedin", "name": "LinkedIn", "goals": {"purchase": "104012"},
            "credentials": {"client_id": "86abc", "client_secret": "s3cret"}}  # fmt: skip
    answer = await client.post("/api/v1/destinations", json=body)
    assert answer.status_code == 201, answer.text
    auth = answer.json()["auth"]
    assert auth["status"] == "needs_reauth" and "not connected" in auth["error"]
    assert auth["connectable"] is True
    half = {**body, "name": "half", "credentials": {"client_id": "86abc"}}
    refused = await client.post("/api/v1/destinations", json=half)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "credentials"


@pytest.mark.parametrize(
    ("platform", "credentials", "option"),
    [
        ("meta", {"pixel_id": "1", "access_token": "t"}, "options.test_event_code"),
        ("tiktok", {"pixel_code": "C1", "access_token": "t"}, "options.test_event_code"),
        ("reddit", {"pixel_id": "t2_x", "access_token": "t"}, "options.test_id"),
    ],
)
async def test_a_test_without_a_test_code_is_refused_and_sends_nothing(
    client: httpx.AsyncClient, goal: str, app: Any,
    platform: str, credentials: dict[str, str], option: str,
) -> None:  # fmt: skip
    sent: list[httpx.Request] = []

    def platform_(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    forwarder = use_platform(app, platform_)
    body = {"platform": platform, "name": platform, "credentials": credentials,
            "goals": {"purchase": "Lead"}}  # fmt: skip
    dest = (await client.post("/api/v1/destinations", json=body)).json()
    answer = await client.post(f"/api/v1/destinations/{dest['id']}/test")
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["field"] == option and option in error["message"]
    assert error["code"] == "no_test_mode"
    assert sent == []
    await forwarder.client.aclose()


async def test_a_platform_without_test_mode_sends_a_real_event_only_when_asked(
    client: httpx.AsyncClient, goal: str, app: Any
) -> None:
    sent: list[httpx.Request] = []

    def platform(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    forwarder = use_platform(app, platform)
    body = {"platform": "microsoft", "name": "ms", "goals": {"purchase": "signup"},
            "credentials": {"tag_id": "123", "access_token": "t"}}  # fmt: skip
    dest = (await client.post("/api/v1/destinations", json=body)).json()
    url = f"/api/v1/destinations/{dest['id']}/test"
    refused = await client.post(url)
    assert refused.status_code == 409 and "no test mode" in refused.json()["error"]["message"]
    assert sent == []
    answer = await client.post(url, params={"live": "true"})
    assert answer.status_code == 200 and answer.json()["platform_test_mode"] is False
    assert len(sent) == 1
    assert (await client.post(url, params={"live": "yes"})).status_code == 422
    await forwarder.client.aclose()


async def test_a_test_that_never_reached_the_platform_is_not_reported_sent(
    client: httpx.AsyncClient, goal: str, app: Any
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    forwarder = use_platform(app, down)
    body = {**META, "options": {"test_event_code": "TEST1"}}
    dest = (await client.post("/api/v1/destinations", json=body)).json()
    answer = await client.post(f"/api/v1/destinations/{dest['id']}/test")
    data = answer.json()
    assert data["status"] == "unreachable" and data["http_status"] is None
    assert "could not connect" in data["message"]
    await forwarder.client.aclose()
