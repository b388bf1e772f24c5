"""POST /api/v1/funnels, GET /api/v1/funnels and the report, over visits from POST /e."""

from __future__ import annotations

from typing import Any

import httpx
from test_collect import make_site
from test_web_reports_api import traffic


async def test_a_funnel_is_created_listed_and_reported(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    site = await traffic(app, client, anon)
    body = {"site": site, "name": "Pricing to signup",
            "steps": [{"page": "/pricing"}, {"event": "signup"}]}  # fmt: skip
    made = await client.post("/api/v1/funnels", json=body)
    assert made.status_code == 201, made.text
    funnel = made.json()
    assert funnel["steps"] == body["steps"] and funnel["within"] == "visit"
    listed = await client.get("/api/v1/funnels", params={"site": site})
    assert [f["id"] for f in listed.json()["items"]] == [funnel["id"]]
    answer = await client.get(f"/api/v1/funnels/{funnel['id']}/report")
    assert answer.status_code == 200, answer.text
    steps = answer.json()["report"]
    assert [(s["visitors"], s["conversion_rate"], s["drop_off"]) for s in steps] == [
        (2, 100.0, 0), (2, 100.0, 0),
    ]  # fmt: skip
    direct = await client.get(
        f"/api/v1/funnels/{funnel['id']}/report", params={"channel": "AI Assistants"}
    )
    assert [s["visitors"] for s in direct.json()["report"]] == [1, 1]
    blog = await client.post(
        "/api/v1/funnels",
        json={"site": site, "name": "Blog", "steps": [{"page": "/blog/*"}, {"page": "/pricing"}]},
    )
    report = await client.get(f"/api/v1/funnels/{blog.json()['id']}/report")
    assert [s["visitors"] for s in report.json()["report"]] == [1, 0]
    assert report.json()["report"][1]["drop_off_rate"] == 100.0


async def test_bad_requests_name_the_field(client: httpx.AsyncClient) -> None:
    await make_site(client)
    answer = await client.post(
        "/api/v1/funnels", json={"site": 999, "name": "x", "steps": [{"page": "/"}, {"page": "/b"}]}
    )
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "site"
    assert (await client.get("/api/v1/funnels/999/report")).status_code == 404
    bad = await client.get("/api/v1/funnels", params={"site": "x"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "site"
