"""Placements: a code per printed item, attributed scans, CSV batches, ZIP export, cost per scan."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
import segno

from agents import DESKTOP, IPHONE
from firstmark.store import Store
from qrtools import decode_png, eps_cells, matrix_cells, pdf_cells, svg_cells


async def _link(client: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    body = {"destination": "https://fair.example/stand", "code": "fair", "utm_source": "print"}
    r = await client.post("/api/v1/links", json={**body, **extra})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def _scan(app: Any, path: str, peer: str, ua: str = IPHONE) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(peer, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://fm.test") as http:
        return await http.get(path, headers={"user-agent": ua})


CSV = """name,venue,medium,quantity,print_cost,currency,starts_on,ends_on
Poster Oslo S,Oslo S,poster,20,400.00,NOK,2026-03-01,2026-03-31
Flyer run A,Grünerløkka,flyer,5000,1200,NOK,,
Table 7,Café Sør,table tent,1,,,,
"""


async def test_placement_scans_are_attributed_and_share_the_destination(
    client: httpx.AsyncClient, app: Any
) -> None:
    link = await _link(client)
    r = await client.post(
        f"/api/v1/links/{link['id']}/placements",
        json={"name": "Poster Oslo S", "venue": "Oslo S", "print_cost": "300", "currency": "nok"},
    )
    assert r.status_code == 201, r.text
    placement = r.json()["items"][0]
    assert placement["short_url"] == f"http://fm.test/q/{placement['code']}"
    assert placement["currency"] == "NOK"
    scan = await _scan(app, f"/q/{placement['code']}", "8.8.8.8")
    assert scan.status_code == 302
    location = scan.headers["location"]
    assert location.startswith("https://fair.example/stand?")
    assert "utm_source=print" in location and "utm_content=poster-oslo-s" in location
    await _scan(app, f"/q/{placement['code']}", "8.8.4.4", DESKTOP)
    await _scan(app, f"/q/{placement['code']}", "8.8.4.4", DESKTOP)  # same visitor
    await _scan(app, "/q/fair", "1.1.1.1")  # the link's own code
    await app.state.runtime.writer.drain()

    mine = (await client.get(f"/api/v1/placements/{placement['id']}/scans")).json()
    assert (mine["scans"], mine["unique_scans"]) == (3, 2)
    assert mine["cost_per_scan"] == "150.0000"
    assert mine["cost_per_conversion"] is None and mine["conversions"] == 0
    assert {b["value"] for b in mine["breakdowns"]["device"]} == {"mobile", "desktop"}

    # Two sales come back with the placement's click token: 300 NOK of print, 150 a sale.
    goal = {"name": "sale", "kind": "macro"}
    assert (await client.post("/api/v1/goals", json=goal)).status_code == 201
    token = dict(parse_qsl(urlsplit(location).query))["fm_click"]
    for event_id in ("s1", "s2"):
        body = {"event_id": event_id, "goal": "sale", "click_token": token}
        assert (await client.post("/api/v1/conversions", json=body)).status_code == 201
    after = (await client.get(f"/api/v1/placements/{placement['id']}/scans")).json()
    assert after["conversions"] == 2 and after["cost_per_conversion"] == "150.0000"
    whole = (await client.get(f"/api/v1/links/{link['id']}/scans")).json()
    assert whole["conversions"] == 2
    assert whole["placements"][0]["cost_per_conversion"] == "150.0000"
    assert sum(sum(row) for row in mine["heatmap"]["hours"]) == 3
    assert sum(p["scans"] for p in mine["series"]) == 3

    zone = ZoneInfo("Asia/Kolkata")
    local = (
        await client.get(f"/api/v1/placements/{placement['id']}/scans", params={"tz": str(zone)})
    ).json()["heatmap"]
    assert local["timezone"] == "Asia/Kolkata"
    now = datetime.now(UTC)
    hour = datetime.fromtimestamp(now.timestamp() // 3600 * 3600, zone)
    if (now.minute, now.second) > (0, 5):  # all three scans fell in this UTC hour
        assert local["hours"][hour.weekday()][hour.hour] == 3
    bad = await client.get(f"/api/v1/links/{link['id']}/scans", params={"tz": "Mars/Olympus"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "tz"

    whole = (await client.get(f"/api/v1/links/{link['id']}/scans")).json()
    assert (whole["scans"], whole["unique_scans"]) == (4, 3)
    assert whole["cost_per_scan"] == "100.0000"
    assert [(p["name"], p["scans"]) for p in whole["placements"]] == [("Poster Oslo S", 3)]


async def test_a_changed_destination_reaches_every_printed_code(
    client: httpx.AsyncClient, app: Any
) -> None:
    link = await _link(client)
    items = [{"name": "a"}, {"name": "b", "utm_content": "Custom Tag"}]
    created = (await client.post(f"/api/v1/links/{link['id']}/placements", json=items)).json()
    codes = [p["code"] for p in created["items"]]
    before = await _scan(app, f"/q/{codes[1]}", "8.8.8.8")
    assert "utm_content=custom-tag" in before.headers["location"]
    r = await client.patch(
        f"/api/v1/links/{link['id']}", json={"destination": "https://fair.example/new"}
    )
    assert r.status_code == 200
    for code in codes:
        moved = await _scan(app, f"/q/{code}", "8.8.8.8")
        assert moved.headers["location"].startswith("https://fair.example/new?")
    assert "utm_content=custom-tag" in moved.headers["location"]
    await client.delete(f"/api/v1/links/{link['id']}")
    gone = await _scan(app, f"/q/{codes[0]}", "8.8.8.8")
    assert gone.status_code == 410


async def test_csv_batch_creates_every_row(client: httpx.AsyncClient) -> None:
    link = await _link(client)
    r = await client.post(
        f"/api/v1/links/{link['id']}/placements",
        content=CSV.encode(),
        headers={"content-type": "text/csv"},
    )
    assert r.status_code == 201, r.text
    items = r.json()["items"]
    assert [p["name"] for p in items] == ["Poster Oslo S", "Flyer run A", "Table 7"]
    assert items[1]["quantity"] == 5000 and items[1]["venue"] == "Grünerløkka"
    assert items[0]["starts_on"] == "2026-03-01"
    listed = (await client.get(f"/api/v1/links/{link['id']}/placements")).json()["items"]
    assert len(listed) == 3


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("name,quantity\nok,1\nbad,many\n", "row 3: quantity"),
        ("name,print_cost\nok,1\n", "row 2: currency"),
        ("name,starts_on\nok,2026-13-01\n", "row 2: starts_on"),
        ("name\nsame\nsame\n", "row 3: name"),
        ("name,colour\nx,red\n", "file"),
        ("venue\nOslo\n", "file"),
        ("name,code\nok,api\n", "row 2: code"),
        ("name\n", "file"),
    ],
)
async def test_a_bad_csv_names_the_row_and_creates_nothing(
    client: httpx.AsyncClient, store: Store, text: str, field: str
) -> None:
    link = await _link(client)
    r = await client.post(
        f"/api/v1/links/{link['id']}/placements",
        content=text.encode(),
        headers={"content-type": "text/csv"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert await store.list_placements(link["id"]) == []
    assert await store.count_links() == 1


async def test_taken_codes_and_names_roll_back_the_batch(
    client: httpx.AsyncClient, store: Store
) -> None:
    link = await _link(client)
    await client.post("/api/v1/links", json={"destination": "https://x.example/", "code": "used"})
    r = await client.post(
        f"/api/v1/links/{link['id']}/placements",
        json=[{"name": "one"}, {"name": "two", "code": "used"}],
    )
    assert r.status_code == 409
    assert r.json()["error"]["field"] == "code"
    await client.post(f"/api/v1/links/{link['id']}/placements", json={"name": "one"})
    again = await client.post(f"/api/v1/links/{link['id']}/placements", json={"name": "one"})
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "name"
    assert len(await store.list_placements(link["id"])) == 1
    bad = await client.post(
        f"/api/v1/links/{link['id']}/placements", json=[{"name": "x"}, {"quantity": 2}]
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "[1].name"


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf", "eps"])
async def test_zip_export_has_a_file_per_placement_and_a_manifest(
    client: httpx.AsyncClient, fmt: str
) -> None:
    link = await _link(client)
    await client.post(
        f"/api/v1/links/{link['id']}/placements",
        content=CSV.encode(),
        headers={"content-type": "text/csv"},
    )
    r = await client.get(
        f"/api/v1/links/{link['id']}/placements.zip",
        params={"format": fmt, "scale": "4" if fmt == "png" else "1"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = archive.namelist()
    assert names[-1] == "manifest.csv"
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert [row["placement"] for row in rows] == ["Poster Oslo S", "Flyer run A", "Table 7"]
    assert [row["file"] for row in rows] == [
        f"Poster-Oslo-S.{fmt}",
        f"Flyer-run-A.{fmt}",
        f"Table-7.{fmt}",
    ]
    for row in rows:
        assert row["short_url"] == f"http://fm.test/q/{row['code']}"
        assert row["print_check"] == "ok"
        body = archive.read(row["file"])
        if fmt == "png":
            assert decode_png(body) == [row["short_url"]]
            continue
        qr = segno.make(row["short_url"], error="m", micro=False, boost_error=False)
        want = {(y + 4, x + 4) for y, x in matrix_cells(qr.matrix)}
        if fmt == "svg":
            assert svg_cells(body) == want
        elif fmt == "pdf":
            assert pdf_cells(body) == want
        else:
            assert eps_cells(body.decode("ascii")) == want


async def test_export_without_placements_is_refused(client: httpx.AsyncClient) -> None:
    link = await _link(client)
    r = await client.get(f"/api/v1/links/{link['id']}/placements.zip")
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "link"


async def test_placement_qr_decodes_to_its_own_code(client: httpx.AsyncClient) -> None:
    link = await _link(client)
    created = await client.post(f"/api/v1/links/{link['id']}/placements", json={"name": "door"})
    placement = created.json()["items"][0]
    r = await client.get(f"/api/v1/placements/{placement['id']}/qr", params={"format": "png"})
    assert decode_png(r.content) == [placement["short_url"]]
    assert (await client.get(f"/api/v1/placements/{link['id']}")).status_code == 404
    nested = await client.post(
        f"/api/v1/links/{placement['id']}/placements", json={"name": "inner"}
    )
    assert nested.status_code == 422
