"""Stats as a marketer reads them: totals, bots apart, uniques, series and breakdowns."""

from __future__ import annotations

from typing import Any

import httpx

from agents import DESKTOP, IPHONE


async def visit(app: Any, path: str, peer: str, **headers: str) -> None:
    transport = httpx.ASGITransport(app=app, client=(peer, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://fm.test") as http:
        r = await http.get(path, headers=headers)
        assert r.status_code == 302


async def test_link_stats(client: httpx.AsyncClient, app: Any) -> None:
    link = (
        await client.post("/api/v1/links", json={"destination": "https://a.example/", "code": "s"})
    ).json()
    await visit(
        app, "/s", "8.8.8.8", **{"user-agent": IPHONE, "referer": "https://www.news.example/x"}
    )
    await visit(app, "/s", "8.8.8.8", **{"user-agent": IPHONE})  # same visitor again
    await visit(app, "/q/s", "85.214.132.117", **{"user-agent": DESKTOP})
    await visit(app, "/s", "8.8.4.4", **{"user-agent": "facebookexternalhit/1.1"})
    await app.state.runtime.writer.drain()

    r = await client.get(f"/api/v1/links/{link['id']}/stats")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["totals"] == {
        "hits": 4,
        "humans": 3,
        "bots": 1,
        "uniques": 2,
        "clicks": 2,
        "scans": 1,
        "calls": 0,
        "answered_calls": 0,
        "qualified_calls": 0,
    }
    assert body["interval"] == "day"
    assert len(body["series"]) == 30
    assert sum(p["hits"] for p in body["series"]) == 4
    assert body["series"][-1]["humans"] == 3
    breakdowns = body["breakdowns"]
    assert {(b["value"], b["hits"]) for b in breakdowns["country"]} == {("US", 2), ("DE", 1)}
    assert {(b["value"], b["hits"]) for b in breakdowns["device"]} == {
        ("mobile", 2),
        ("desktop", 1),
    }
    assert {b["value"] for b in breakdowns["os"]} == {"iOS", "Windows"}
    assert ("news.example", 1) in {(b["value"], b["hits"]) for b in breakdowns["referrer"]}
    assert all(b["value"] != "Facebook" for b in breakdowns["browser"])  # bots left out

    hourly = (
        await client.get(f"/api/v1/links/{link['id']}/stats", params={"interval": "hour"})
    ).json()
    assert len(hourly["series"]) == 48
    assert hourly["totals"] == body["totals"]


async def test_stats_range_validation(client: httpx.AsyncClient) -> None:
    link = (await client.post("/api/v1/links", json={"destination": "https://a.example/"})).json()
    url = f"/api/v1/links/{link['id']}/stats"
    cases = [
        ({"interval": "week"}, "interval"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01", "interval": "hour"}, "to"),
        ({"colour": "red"}, "colour"),
    ]
    for params, field in cases:
        r = await client.get(url, params=params)
        assert r.status_code == (400 if field == "colour" else 422), params  # unknown: 400
        assert r.json()["error"]["field"] == field
    ok = await client.get(url, params={"from": "2026-01-01", "to": "2026-01-31"})
    assert ok.status_code == 200
    assert len(ok.json()["series"]) == 31  # a date-only `to` includes that day


async def test_group_stats_by_utm_and_tag(client: httpx.AsyncClient, app: Any) -> None:
    specs = [
        ("g1", "google", ["print"]),
        ("g2", "google", []),
        ("f1", "facebook", ["print"]),
    ]
    for code, source, tags in specs:
        await client.post(
            "/api/v1/links",
            json={
                "destination": "https://a.example/",
                "code": code,
                "utm_source": source,
                "tags": tags,
            },
        )
    for path, peer in (
        ("/g1", "8.8.8.8"),
        ("/g2", "8.8.4.4"),
        ("/g2", "8.8.4.4"),
        ("/q/f1", "1.1.1.1"),
    ):
        await visit(app, path, peer, **{"user-agent": DESKTOP})
    await visit(
        app, "/g1", "9.9.9.9", **{"user-agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}
    )
    await app.state.runtime.writer.drain()

    r = await client.get("/api/v1/stats", params={"group_by": "utm_source"})
    assert r.status_code == 200, r.text
    by_source = {row["value"]: row for row in r.json()["rows"]}
    assert by_source["google"] | {} == {
        "value": "google", "links": 2, "hits": 4, "humans": 3, "bots": 1, "uniques": 2,
        "clicks": 3, "scans": 0, "calls": 0, "answered_calls": 0, "qualified_calls": 0,
    }  # fmt: skip
    assert by_source["facebook"]["scans"] == 1
    by_tag = {
        row["value"]: row for row in (await client.get("/api/v1/stats?group_by=tag")).json()["rows"]
    }
    assert by_tag["print"]["links"] == 2 and by_tag["print"]["humans"] == 2
    bad = await client.get("/api/v1/stats", params={"group_by": "colour"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "group_by"
