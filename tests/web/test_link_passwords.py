"""Password-protected links are throttled per client network and per link."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import BASE_URL
from firstmark.web.throttle import link_throttle


@pytest.fixture(autouse=True)
def frozen_throttle(app: Any) -> None:
    """The throttle on a stopped clock: the counts below do not depend on test speed."""
    app.guesses = link_throttle(clock=lambda: 1000.0)


async def _protected(client: httpx.AsyncClient, code: str) -> None:
    body = {"destination": "https://shop.example/p", "code": code, "password": "open sesame"}
    r = await client.post("/api/v1/links", json=body)
    assert r.status_code == 201, r.text


def _visitor(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 4000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


async def test_guesses_from_one_network_are_slowed(app: Any, client: httpx.AsyncClient) -> None:
    await _protected(client, "vault")
    await _protected(client, "other")
    answers = []
    # 150 guesses, each from a new address of one /64 (and so of one /56).
    for i in range(150):
        async with _visitor(app, f"2001:db8:5:7::{i + 1:x}") as http:
            answers.append((await http.post("/vault", data={"password": f"guess{i}"})).status_code)
    assert answers.count(403) == 5  # the free failures of a network, then it must wait
    assert answers.count(429) == 145
    async with _visitor(app, "2001:db8:5:7::ffff") as http:
        held = await http.post("/vault", data={"password": "open sesame"})
        assert held.status_code == 429 and "Too many wrong passwords" in held.text
        assert int(held.headers["retry-after"]) >= 1
        # The wait is per network: even the right password waits, on any link.
        assert (await http.post("/other", data={"password": "open sesame"})).status_code == 429
    async with _visitor(app, "2001:db8:6::1") as http:  # another network is not held back
        right = await http.post("/vault", data={"password": "open sesame"})
        assert right.status_code == 302


async def test_guesses_at_one_link_from_many_networks_are_slowed(
    app: Any, client: httpx.AsyncClient
) -> None:
    await _protected(client, "vault")
    await _protected(client, "other")
    answers = []
    for i in range(60):
        async with _visitor(app, f"198.51.{i}.9") as http:
            answers.append((await http.post("/vault", data={"password": f"guess{i}"})).status_code)
    assert answers.count(403) == 20 and answers.count(429) == 40
    async with _visitor(app, "192.0.2.1") as http:
        assert (await http.post("/vault", data={"password": "open sesame"})).status_code == 429
        # Another link is not held back by this one's guesses.
        assert (await http.post("/other", data={"password": "open sesame"})).status_code == 302
