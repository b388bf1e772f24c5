"""GET /api/v1/reports/paths and the dashboard's paths page: top converting paths with their
conversion rate, path lengths, days to conversion, assisted against last-touch conversions."""

from __future__ import annotations

import csv
import io

import httpx

from firstmark.store import Store
from pathdemo import seed_demo


async def test_paths_of_the_demo(client: httpx.AsyncClient, store: Store) -> None:
    await seed_demo(store)
    answer = await client.get(
        "/api/v1/reports/paths", params={"group_by": "source,medium", "currency": "EUR"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["conversions"] == 220 and body["journeys"] == 500
    top = body["paths"][0]
    assert top["steps"] == ["newsletter / email", "google / cpc"]
    assert (top["conversions"], top["journeys"], top["conversion_rate"]) == (200, 200, 1.0)
    assert top["revenue"] == "10000.00"
    alone = body["paths"][1]
    assert alone["path"] == "google / cpc" and alone["conversion_rate"] == 0.2
    assert body["lengths"] == [
        {"touches": 1, "conversions": 20, "revenue": "1000.00"},
        {"touches": 2, "conversions": 200, "revenue": "10000.00"},
    ]
    assert body["median_touches"] == 2.0
    assert body["median_days"] == 3.0
    assert {"days": 3, "conversions": 200, "revenue": "10000.00"} in body["days"]
    by_source = {a["source"]: a for a in body["assisted"]}
    assert by_source["newsletter"]["last_touch_conversions"] == 0
    assert by_source["newsletter"]["assisted_conversions"] == 200
    assert by_source["google"]["last_touch_conversions"] == 220
    assert by_source["google"]["assisted_ratio"] == 0.0


async def test_paths_by_channel_per_goal_and_as_csv(
    client: httpx.AsyncClient, store: Store
) -> None:
    await seed_demo(store, goal="purchase")
    await seed_demo(store, goal="signup", scale=2)
    signups = (await client.get("/api/v1/reports/paths", params={"goal": "signup"})).json()
    assert signups["group_by"] == ["channel"] and signups["conversions"] == 440
    assert signups["paths"][0]["steps"] == ["Email", "Paid Search"]
    every = (await client.get("/api/v1/reports/paths")).json()
    assert every["conversions"] == 660
    download = await client.get(
        "/api/v1/reports/paths", params={"goal": "signup", "format": "csv", "table": "assisted"}
    )
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text.lstrip("\ufeff"))))
    email = next(r for r in rows if r["channel"] == "Email")
    assert email["assisted_conversions"] == "400" and email["last_touch_conversions"] == "0"


async def test_paths_refuses_what_it_does_not_know(client: httpx.AsyncClient) -> None:
    for params, field in (
        ({"goal": "nope"}, "goal"),
        ({"table": "nope"}, "table"),
        ({"group_by": "colour"}, "group_by"),
        ({"colour": "red"}, "colour"),
    ):
        answer = await client.get("/api/v1/reports/paths", params=params)
        assert 400 <= answer.status_code < 500, params
        assert field in answer.text


async def test_the_paths_page_and_its_downloads(dash: httpx.AsyncClient, store: Store) -> None:
    await seed_demo(store)
    page = await dash.get("/dashboard/paths")
    assert page.status_code == 200
    assert "Email → Paid Search" in page.text
    assert '<tr data-group="Email"><th scope="row">Email</th><td class="num">0</td>' in page.text
    download = await dash.get("/dashboard/paths.csv", params={"table": "lengths"})
    assert download.status_code == 200
    assert download.text.lstrip("\ufeff").splitlines() == [
        "touches,conversions,revenue",
        "1,20,1000.00",
        "2,200,10000.00",
    ]
    refused = await dash.get("/dashboard/paths.csv", params={"table": "nope"})
    assert refused.status_code == 422
