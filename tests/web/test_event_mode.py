"""Event mode: destinations before, during and after an event; retirement with a summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from agents import IPHONE


def _at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


EVENT = {
    "before_url": "https://fest.example/tickets",
    "during_url": "https://fest.example/programme",
    "after_url": "https://fest.example/thanks",
}


async def _link_with_placement(client: httpx.AsyncClient) -> tuple[dict[str, Any], str]:
    r = await client.post(
        "/api/v1/links",
        json={"destination": "https://fest.example/", "code": "fest", "click_token": False},
    )
    link: dict[str, Any] = r.json()
    p = await client.post(f"/api/v1/links/{link['id']}/placements", json={"name": "gate"})
    return link, p.json()["items"][0]["code"]


@pytest.mark.parametrize(
    ("starts", "ends", "phase", "where"),
    [
        (1, 2, "before", "https://fest.example/tickets"),
        (-1, 2, "during", "https://fest.example/programme"),
        (-3, -1, "after", "https://fest.example/thanks"),
    ],
)
async def test_the_code_leads_where_the_schedule_says(
    client: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    starts: float,
    ends: float,
    phase: str,
    where: str,
) -> None:
    link, code = await _link_with_placement(client)
    assert (await anon.get("/q/fest")).headers["location"] == "https://fest.example/"
    r = await client.put(
        f"/api/v1/links/{link['id']}/event",
        json={**EVENT, "starts_at": _at(starts), "ends_at": _at(ends)},
    )
    assert r.status_code == 200, r.text
    assert r.json()["phase"] == phase
    for path in ("/q/fest", f"/q/{code}"):
        location = (await anon.get(path)).headers["location"]
        assert location.split("?")[0] == where
    assert "utm_content=gate" in (await anon.get(f"/q/{code}")).headers["location"]
    await client.delete(f"/api/v1/links/{link['id']}/event")
    assert (await anon.get("/q/fest")).headers["location"] == "https://fest.example/"


async def test_retiring_sends_codes_to_the_fallback_and_keeps_a_summary(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, app: Any
) -> None:
    link, code = await _link_with_placement(client)
    await client.put(
        f"/api/v1/links/{link['id']}/event",
        json={**EVENT, "starts_at": _at(-1), "ends_at": _at(3)},
    )
    await anon.get(f"/q/{code}", headers={"user-agent": IPHONE})
    await anon.get("/q/fest", headers={"user-agent": IPHONE})
    await app.state.runtime.writer.drain()
    r = await client.post(
        f"/api/v1/links/{link['id']}/event/retire",
        json={"fallback_url": "https://fest.example/next-year"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["phase"] == "retired"
    summary = body["summary"]
    assert summary["scans"] == 2
    assert summary["phases"]["during"]["scans"] + summary["phases"]["before"]["scans"] == 2
    assert summary["placements"] == [{"name": "gate", "scans": 1, "unique_scans": 1}]
    for path in ("/q/fest", f"/q/{code}"):
        assert (await anon.get(path)).headers["location"] == "https://fest.example/next-year"
    kept = (await client.get(f"/api/v1/links/{link['id']}/event")).json()
    assert kept["summary"] == summary


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"starts_at": "2026-01-02", "ends_at": "2026-01-01"}, "ends_at"),
        ({"ends_at": "2026-01-01"}, "starts_at"),
        (
            {"starts_at": "2026-01-01", "ends_at": "2026-01-02", "during_url": "ftp://x"},
            "during_url",
        ),
        (
            {"starts_at": "2026-01-01", "ends_at": "2026-01-02", "retire_at": "2026-01-03"},
            "fallback_url",
        ),
        ({"starts_at": "2026-01-01", "ends_at": "2026-01-02", "colour": "red"}, "colour"),
    ],
)
async def test_bad_schedules_are_refused(
    client: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    link, _ = await _link_with_placement(client)
    r = await client.put(f"/api/v1/links/{link['id']}/event", json=body)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == field
    assert (await client.get(f"/api/v1/links/{link['id']}/event")).status_code == 404
