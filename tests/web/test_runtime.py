"""The runtime on app.state: one frozen object every handler reads, swapped whole by a test."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx
import pytest

from firstmark.forward.worker import Forwarder
from firstmark.web.runtime import Runtime

META = {
    "platform": "meta",
    "name": "Meta EU",
    "credentials": {"pixel_id": "1234567890", "access_token": "EAAB-token"},
    "goals": {"purchase": "Purchase"},
    "options": {"test_event_code": "TEST42"},
}


async def test_the_runtime_is_one_frozen_object(app: Any) -> None:
    rt = app.state.runtime
    assert isinstance(rt, Runtime)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rt.store = None  # type: ignore[misc,assignment]
    assert rt.probe_forwarder is rt.forwarder  # the test button sends with the worker


async def test_a_swapped_probe_forwarder_sends_the_test_event(
    app: Any, client: httpx.AsyncClient
) -> None:
    assert (await client.post("/api/v1/goals", json={"name": "purchase"})).status_code == 201
    dest = (await client.post("/api/v1/destinations", json=META)).json()
    seen: list[dict[str, Any]] = []

    def platform(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={"events_received": 1})

    rt = app.state.runtime
    probe = Forwarder(
        rt.store,
        httpx.AsyncClient(transport=httpx.MockTransport(platform)),
        credentials=rt.credentials_sealer,
        client_data=rt.client_sealer,
    )
    app.state.runtime = dataclasses.replace(rt, probe_forwarder=probe)
    try:
        answer = await client.post(f"/api/v1/destinations/{dest['id']}/test")
    finally:
        app.state.runtime = rt
        await probe.client.aclose()
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "sent"
    assert [body["test_event_code"] for body in seen] == ["TEST42"]


async def test_a_swapped_runtime_serves_the_next_request(
    app: Any, client: httpx.AsyncClient
) -> None:
    """Tests swap one part by replacing the whole frozen runtime; the next request sees it."""
    rt = app.state.runtime
    app.state.runtime = dataclasses.replace(
        rt, settings=dataclasses.replace(rt.settings, base_url="https://other.example")
    )
    try:
        made = await client.post("/api/v1/links", json={"destination": "https://example.com/"})
        assert made.json()["short_url"].startswith("https://other.example/")
    finally:
        app.state.runtime = rt
    made = await client.post("/api/v1/links", json={"destination": "https://example.com/b"})
    assert not made.json()["short_url"].startswith("https://other.example/")
