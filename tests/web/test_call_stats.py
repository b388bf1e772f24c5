"""Calls beside clicks and scans: the stats API, the QR placement reports and the report
tables count the calls to tracking numbers, and a qualified call's cost only where the
campaign has one."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from calltools import call, number
from firstmark.domain.calls import Lease
from firstmark.store import Store

TODAY = datetime.now(UTC).date().isoformat()


async def _link(client: httpx.AsyncClient, code: str, **fields: Any) -> int:
    body = {"destination": "https://shop.example/", "code": code, **fields}
    r = await client.post("/api/v1/links", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.fixture
async def phoned(client: httpx.AsyncClient, store: Store) -> dict[str, int]:
    """A poster link with a static number: a 75 s call (qualified), a 20 s call (answered,
    too short) and one nobody answered. A number bound to the campaign "fair" alone (no
    link): one qualified call. A pool number: one call from a Google session."""
    poster = await _link(
        client, "poster", utm_source="print", utm_medium="qr", utm_campaign="spring",
        campaign="spring", tags=["print"],
    )  # fmt: skip
    google = await _link(
        client, "g", utm_source="google", utm_medium="cpc", utm_campaign="spring",
        campaign="spring",
    )  # fmt: skip
    printed = await number(store, "+442079460100", link_id=poster, label="Poster")
    await call(store, printed, "CA1", talk=75)
    await call(store, printed, "CA2", talk=20)
    await call(store, printed, "CA3", talk=None, status="no-answer")
    fair = await number(store, "+442079460200", campaign="fair")
    await call(store, fair, "CA4", talk=300)
    web = await number(store, "+442079460101", pool="web")
    session = Lease(
        id="lease-1", pool="web", started=time.time() - 900, expires=time.time() + 900,
        link_id=google, utm_source="google", utm_medium="cpc", utm_campaign="spring",
    )  # fmt: skip
    await call(store, web, "CA5", talk=61, lease=session)
    return {"poster": poster, "google": google}


async def test_link_stats_count_the_calls_to_its_number(
    client: httpx.AsyncClient, phoned: dict[str, int]
) -> None:
    body = (await client.get(f"/api/v1/links/{phoned['poster']}/stats")).json()
    totals = body["totals"]
    assert (totals["calls"], totals["answered_calls"], totals["qualified_calls"]) == (3, 2, 1)
    assert totals["clicks"] == 0  # nobody clicked: the calls stand on their own
    google = (await client.get(f"/api/v1/links/{phoned['google']}/stats")).json()["totals"]
    assert (google["calls"], google["qualified_calls"]) == (1, 1)  # the session's call
    old = await client.get(
        f"/api/v1/links/{phoned['poster']}/stats", params={"from": "2020-01-01", "to": "2020-01-31"}
    )
    assert old.json()["totals"]["calls"] == 0


async def test_group_stats_count_calls_by_the_same_key(
    client: httpx.AsyncClient, phoned: dict[str, int]
) -> None:
    by_campaign = (await client.get("/api/v1/stats", params={"group_by": "utm_campaign"})).json()
    rows = {r["value"]: r for r in by_campaign["rows"]}
    assert (rows["spring"]["calls"], rows["spring"]["qualified_calls"]) == (4, 2)
    assert rows["spring"]["links"] == 2
    # A campaign only a printed number reached still has its row.
    assert rows["fair"] == {
        "value": "fair", "links": 0, "hits": 0, "humans": 0, "bots": 0, "uniques": 0,
        "clicks": 0, "scans": 0, "calls": 1, "answered_calls": 1, "qualified_calls": 1,
    }  # fmt: skip
    by_source = (await client.get("/api/v1/stats", params={"group_by": "utm_source"})).json()
    sources = {r["value"]: (r["calls"], r["qualified_calls"]) for r in by_source["rows"]}
    assert sources["print"] == (3, 1) and sources["google"] == (1, 1)
    by_tag = (await client.get("/api/v1/stats", params={"group_by": "tag"})).json()
    assert all(r["calls"] is None and r["qualified_calls"] is None for r in by_tag["rows"])
    assert "tag" in by_tag["note"]


async def test_placement_reports_count_calls_to_the_number_printed_beside_the_code(
    client: httpx.AsyncClient, store: Store
) -> None:
    parent = await _link(client, "fair-stand", utm_source="print", utm_campaign="fair")
    r = await client.post(
        f"/api/v1/links/{parent}/placements",
        json=[
            {"name": "Stand B12", "print_cost": "300", "currency": "EUR"},
            {"name": "Flyer", "print_cost": "100", "currency": "EUR"},
        ],
    )
    assert r.status_code == 201, r.text
    stand, flyer = r.json()["items"]
    printed = await number(store, "+442079460300", link_id=stand["id"], label="Stand B12")
    for n, talk in enumerate((90, 120, 10)):
        await call(store, printed, f"CS{n}", talk=talk)

    mine = (await client.get(f"/api/v1/placements/{stand['id']}/scans")).json()
    assert (mine["calls"], mine["answered_calls"], mine["qualified_calls"]) == (3, 3, 2)
    assert mine["cost_per_call"] == "150.0000"  # 300 EUR of print / 2 qualified calls
    assert mine["conversions"] == 2  # the qualified calls are conversions of the placement
    other = (await client.get(f"/api/v1/placements/{flyer['id']}/scans")).json()
    assert other["calls"] == 0 and other["cost_per_call"] is None
    whole = (await client.get(f"/api/v1/links/{parent}/scans")).json()
    assert (whole["calls"], whole["qualified_calls"]) == (3, 2)
    assert whole["cost_per_call"] == "200.0000"  # 400 EUR of print in all
    per = {p["name"]: p for p in whole["placements"]}
    assert (per["Stand B12"]["calls"], per["Stand B12"]["cost_per_call"]) == (3, "150.0000")
    assert (per["Flyer"]["calls"], per["Flyer"]["cost_per_call"]) == (0, None)


async def test_reports_have_call_columns_and_cost_per_call_only_with_costs(
    client: httpx.AsyncClient, phoned: dict[str, int]
) -> None:
    body = (await client.get("/api/v1/reports/campaigns")).json()
    rows = {r["campaign"]: r for r in body["rows"]}
    spring = rows["spring"]
    assert (spring["calls"], spring["answered_calls"], spring["qualified_calls"]) == (4, 3, 2)
    assert spring["conversions"] == "2"  # the two qualified calls, counted as conversions
    assert spring["cost_per_call"] is None and spring["cpa"] is None  # no cost imported
    assert rows["fair"]["calls"] == 1
    assert (body["totals"]["calls"], body["totals"]["qualified_calls"]) == (5, 3)

    answer = await client.get("/api/v1/reports/campaigns", params={"format": "csv"})
    text = answer.content.decode("utf-8-sig")
    lines = {line["campaign"]: line for line in csv.DictReader(io.StringIO(text))}
    assert lines["spring"]["calls"] == "4" and lines["spring"]["cost_per_call"] == "—"

    costs = f"date,source,medium,campaign,spend,currency\n{TODAY},google,cpc,spring,50.00,EUR\n"
    assert (await client.post("/api/v1/costs/import", content=costs)).status_code == 201
    spring = {
        r["campaign"]: r for r in (await client.get("/api/v1/reports/campaigns")).json()["rows"]
    }["spring"]
    assert spring["cost_per_call"] == "25.00" and spring["cpa"] == "25.00"

    links = {r["link"]: r for r in (await client.get("/api/v1/reports/links")).json()["rows"]}
    assert (links[phoned["poster"]]["calls"], links[phoned["poster"]]["qualified_calls"]) == (3, 1)
    assert links[phoned["poster"]]["cost_per_call"] is None  # links have no spend
    contents = (await client.get("/api/v1/reports/contents")).json()
    assert sum(r["calls"] for r in contents["rows"]) == 5

    overview = (await client.get("/api/v1/reports/overview")).json()
    assert (overview["totals"]["calls"], overview["totals"]["qualified_calls"]) == (5, 3)
    assert overview["totals"]["cost_per_call"] == "16.67"  # 50 EUR / 3
    assert sum(d["calls"] for d in overview["series"]) == 5

    channels = (await client.get("/api/v1/reports/channels")).json()
    by_channel = {(r["source"], r["medium"]): r for r in channels["rows"]}
    poster = by_channel[("print", "qr")]
    assert (poster["calls"], poster["answered_calls"], poster["qualified_calls"]) == (3, 2, 1)
    assert (by_channel[("google", "cpc")]["calls"], by_channel[(None, None)]["calls"]) == (1, 1)
    assert (channels["totals"]["calls"], channels["totals"]["qualified_calls"]) == (5, 3)
    answer = await client.get("/api/v1/reports/channels", params={"format": "csv"})
    text = answer.content.decode("utf-8-sig")
    lines = {(x["source"], x["medium"]): x for x in csv.DictReader(io.StringIO(text))}
    assert (
        lines[("print", "qr")]["calls"] == "3" and lines[("print", "qr")]["qualified_calls"] == "1"
    )
    assert lines[("google", "cpc")]["cost_per_call"] == "50.00"  # 50 EUR / 1 qualified call
