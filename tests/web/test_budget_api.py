"""GET /api/v1/reports/budget: the suggestion with the data it rests on, or why not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from conftest import BASE_URL
from firstmark.domain.budget import Curve
from firstmark.store import Store
from insighttools import TODAY, seed_budget, spends

SEARCH = Curve(300.0, 3000.0)
SOCIAL = Curve(150.0, 60.0)


async def test_the_suggestion_moves_budget_toward_the_higher_marginal_return(
    client: httpx.AsyncClient, store: Store
) -> None:
    first = await seed_budget(
        store,
        [
            ("google", "cpc", spends(30, seed=5), SEARCH.value),
            ("facebook", "paid_social", spends(30, seed=6), SOCIAL.value),
        ],
    )
    r = await client.get(
        "/api/v1/reports/budget", params={"from": first.isoformat(), "to": TODAY.isoformat()}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "position_based" and body["metric"] == "revenue"
    assert body["reasons"] == [] and body["data"]["days"] == 30
    assert {c["channel"]: c["enough_variation"] for c in body["data"]["channels"]} == {
        "Paid Search": True, "Paid Social": True,
    }  # fmt: skip
    plan = body["suggestion"]
    assert plan["applied"] is False
    moves = {c["channel"]: c["change"] for c in plan["channels"]}
    assert moves["Paid Search"] > 0 > moves["Paid Social"]
    assert abs(sum(moves.values())) < 0.01  # the same daily budget, only moved
    assert plan["daily_gain"] > 0 and plan["daily_gain_interval"][0] > 0
    search = next(c for c in plan["channels"] if c["channel"] == "Paid Search")
    low, high = search["marginal_return_interval"]
    assert low <= search["marginal_return"] <= high


async def test_no_suggestion_without_spend_and_bad_parameters_named(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/v1/reports/budget", params={"metric": "conversions"})
    assert r.status_code == 200
    assert r.json()["suggestion"] is None
    assert r.json()["reasons"] == ["a reallocation needs at least two channels with spend"]
    for params, name in (
        ({"model": "best"}, "model"),
        ({"metric": "clicks"}, "metric"),
        ({"channels": "Nowhere"}, "channels"),
        ({"group_by": "channel"}, "group_by"),
    ):
        r = await client.get("/api/v1/reports/budget", params=params)
        assert 400 <= r.status_code < 500 and name in r.text, r.text


async def test_a_key_without_reports_read_is_refused(
    app: Any, make_key: Callable[..., Any]
) -> None:
    key = await make_key("links:read")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        for path in ("/api/v1/reports/budget", "/api/v1/reports/customers"):
            r = await http.get(path, headers={"authorization": f"Bearer {key}"})
            assert r.status_code == 403
