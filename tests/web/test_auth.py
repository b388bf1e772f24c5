"""API keys: Bearer only, scopes enforced, JSON errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx


async def test_missing_key_is_401_json(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/api/v1/links")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "unauthorized"


async def test_wrong_key_is_401(anon: httpx.AsyncClient) -> None:
    for header in ("Bearer fm_abcdefgh_nope", "Bearer nonsense", "Basic dXNlcjpwYXNz"):
        r = await anon.get("/api/v1/links", headers={"authorization": header})
        assert r.status_code == 401, header


async def test_scope_is_enforced(anon: httpx.AsyncClient, make_key: Callable[..., Any]) -> None:
    reader = await make_key("links:read")
    headers = {"authorization": f"Bearer {reader}"}
    assert (await anon.get("/api/v1/links", headers=headers)).status_code == 200
    r = await anon.post(
        "/api/v1/links", json={"destination": "https://a.example/"}, headers=headers
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert "links:write" in r.json()["error"]["message"]
    r = await anon.get("/api/v1/stats?group_by=campaign", headers=headers)
    assert r.status_code == 403


async def test_revoked_key_stops_working(
    anon: httpx.AsyncClient, make_key: Callable[..., Any], app: Any
) -> None:
    key = await make_key("admin")
    headers = {"authorization": f"Bearer {key}"}
    assert (await anon.get("/api/v1/links", headers=headers)).status_code == 200
    assert await app.state.runtime.store.revoke_api_key(key.split("_")[1])
    assert (await anon.get("/api/v1/links", headers=headers)).status_code == 401


async def test_keys_are_stored_hashed(app: Any, make_key: Callable[..., Any]) -> None:
    key = await make_key("links:read")
    stored = await app.state.runtime.store.api_key_by_prefix(key.split("_")[1])
    assert stored.hash != key.split("_")[2]
    assert key.split("_")[2] not in stored.hash
