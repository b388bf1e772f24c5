"""The limits docs/security.md lists, each at its number: one byte (or field, or row) over is
refused with the status the table names, and a chunked body is never read past the limit."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from test_bounded_bodies import CHUNK, Endless

from firstmark.domain import placements
from firstmark.web.api.conversions import BATCH_BODY_LIMIT
from firstmark.web.callhooks import BODY_LIMIT as HOOK_LIMIT
from firstmark.web.redirect import FORM_LIMIT as PASSWORD_FORM_LIMIT


async def test_the_password_form_is_read_up_to_4_kb(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    assert PASSWORD_FORM_LIMIT == 4096
    r = await client.post(
        "/api/v1/links",
        json={"destination": "https://a.example/", "code": "locked", "password": "right horse 1"},
    )
    assert r.status_code == 201, r.text
    body = Endless(b"password=", total=50 * 2**20)
    r = await anon.post(
        "/locked", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 403
    assert body.sent <= PASSWORD_FORM_LIMIT + CHUNK


async def test_conversion_batches_stop_at_4_mb(client: httpx.AsyncClient) -> None:
    assert BATCH_BODY_LIMIT == 4 * 2**20
    over = b"[" + b" " * BATCH_BODY_LIMIT + b"]"
    r = await client.post(
        "/api/v1/conversions", content=over, headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"


async def test_placement_csv_stops_at_2_mb(client: httpx.AsyncClient) -> None:
    assert placements.CSV_LIMIT == 2 * 2**20
    r = await client.post("/api/v1/links", json={"destination": "https://a.example/"})
    link_id = r.json()["id"]
    body = Endless(b"name\n", total=10 * 2**20)
    r = await client.post(
        f"/api/v1/links/{link_id}/placements", content=body, headers={"content-type": "text/csv"}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "too_large"
    assert body.sent <= placements.CSV_LIMIT + CHUNK


async def test_call_webhooks_stop_at_64_kb(anon: httpx.AsyncClient) -> None:
    assert HOOK_LIMIT == 64 * 1024
    body = Endless(b"CallSid=CA1&", total=10 * 2**20)
    r = await anon.post(
        "/hooks/twilio/voice",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 403
    assert body.sent <= HOOK_LIMIT + CHUNK


@pytest.mark.parametrize(("fields", "status"), [(200, 401), (201, 400)])
async def test_dashboard_forms_take_200_fields(app: Any, fields: int, status: int) -> None:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://fm.test") as browser:
        page = await browser.get("/dashboard/login")
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        data = {"csrf": csrf, "username": "nobody", "password": "wrong password"}
        data |= {f"x{i}": "1" for i in range(fields - len(data))}
        r = await browser.post("/dashboard/login", data=data)
    assert r.status_code == status, r.text[:300]


async def test_qr_renders_stop_at_4000_pixels(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/links", json={"destination": "https://a.example/"})
    link_id = r.json()["id"]
    params: dict[str, str | int] = {"format": "png", "scale": 100, "border": 20}
    r = await client.get(f"/api/v1/links/{link_id}/qr", params=params)
    assert r.status_code == 422 and "at most 4000 px" in r.json()["error"]["message"]
    assert json.loads(r.text)["error"]["field"] == "scale"
