"""GA's own client and session ids, from fm.js (its `_ga` cookies) or a backend, reach GA4
as `client_id` and `session_id`, so the conversion joins GA's session and its ad click; they
are kept only under analytics consent and must look like GA's ids."""

from __future__ import annotations

import json
from typing import Any

import httpx

from firstmark.forward.worker import Forwarder

UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"
GA4: dict[str, Any] = {
    "platform": "ga4",
    "name": "GA4",
    "credentials": {"measurement_id": "G-TEST", "api_secret": "secret-1"},
    "goals": {"purchase": "purchase"},
}


async def setup(client: httpx.AsyncClient) -> str:
    assert (await client.post("/api/v1/goals", json={"name": "purchase"})).status_code == 201
    assert (await client.post("/api/v1/destinations", json=GA4)).status_code == 201
    site = await client.post("/api/v1/sites", json={"hosts": ["shop.example"]})
    key: str = site.json()["key"]
    return key


async def post_event(anon: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await anon.post(
        "/e",
        content=json.dumps(body).encode(),
        headers={"content-type": "text/plain", "origin": "https://shop.example", "user-agent": UA},
    )


async def test_a_web_conversion_goes_to_ga4_with_gas_own_ids(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, app: Any
) -> None:
    key = await setup(client)
    consent = {"analytics_storage": "granted", "ad_user_data": "granted"}
    ga = {"client_id": "1234567890.1764000000", "session_id": "1764071000"}
    base = {"site": key, "type": "conversion", "name": "purchase", "consent": consent,
            "url": "https://shop.example/thanks", "vid": "visitor-123456"}  # fmt: skip
    assert (await post_event(anon, {**base, "event_id": "web-1", "ga": ga})).status_code == 202
    no_analytics = {**base, "event_id": "web-2", "ga": ga, "vid": None,
                    "consent": {"ad_user_data": "granted"}}  # fmt: skip
    assert (await post_event(anon, no_analytics)).status_code == 202
    await app.state.runtime.event_writer.drain()
    seen: list[dict[str, Any]] = []

    def google(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(204)

    forwarder: Forwarder = app.state.runtime.forwarder
    forwarder.client = httpx.AsyncClient(transport=httpx.MockTransport(google))
    assert await forwarder.drain() == 2
    by_event = {s["events"][0]["params"]["transaction_id"]: s for s in seen}
    assert by_event["web-1"]["client_id"] == "1234567890.1764000000"
    assert by_event["web-1"]["events"][0]["params"]["session_id"] == 1764071000
    # Without analytics consent GA's ids are not kept: a pseudonymous client, no session.
    assert by_event["web-2"]["client_id"] != "1234567890.1764000000"
    assert "session_id" not in by_event["web-2"]["events"][0]["params"]
    await forwarder.client.aclose()


async def test_ga_ids_that_are_not_gas_are_refused(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    key = await setup(client)
    base = {"site": key, "type": "pageview", "url": "https://shop.example/"}
    for ga, field in (
        ({"client_id": "jane@example.com"}, "ga.client_id"),
        ({"session_id": "1.2"}, "ga.session_id"),
        ({"user": "x"}, "ga.user"),
    ):
        answer = await post_event(anon, {**base, "ga": ga})
        assert answer.status_code == 422 and answer.json()["error"]["field"] == field
    backend = await client.post(
        "/api/v1/conversions",
        json={"event_id": "b-1", "goal": "purchase", "click_ids": {"ga_client_id": "nope"}},
    )
    assert backend.status_code == 422
    assert backend.json()["error"]["field"] == "click_ids.ga_client_id"
    fine = await client.post(
        "/api/v1/conversions",
        json={"event_id": "b-2", "goal": "purchase",
              "click_ids": {"ga_client_id": "1.2", "ga_session_id": "3"}},
    )  # fmt: skip
    assert fine.status_code == 201, fine.text
