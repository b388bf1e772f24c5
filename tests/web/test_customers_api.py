"""GET /api/v1/reports/customers, and the customer id a backend sends with a conversion."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from firstmark.domain.userdata import sha256
from firstmark.store import Store

TODAY = datetime.now(UTC).date()
GRANTED = {"analytics_storage": "granted"}


async def order(client: httpx.AsyncClient, event_id: str, days_ago: int, **more: Any) -> None:
    ts = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    body = {"event_id": event_id, "goal": "order", "ts": ts, "currency": "EUR", **more}
    r = await client.post("/api/v1/conversions", json=body)
    assert r.status_code == 201, r.text


async def seed(client: httpx.AsyncClient) -> None:
    goal = {"name": "order", "kind": "macro", "currency": "EUR", "window_days": 30}
    assert (await client.post("/api/v1/goals", json=goal)).status_code == 201
    # One buyer on two devices, joined by the shop's account id; one buyer without consent.
    await order(client, "o1", 20, value=100, visitor_id="laptop-0001", consent=GRANTED,
                customer_id="account-42")  # fmt: skip
    await order(client, "o2", 10, value=50, visitor_id="phone-00001", consent=GRANTED,
                customer_id="account-42")  # fmt: skip
    await order(client, "o3", 5, value=30, visitor_id="other-00001")
    costs = f"date,source,medium,campaign,spend,currency\n{TODAY},(direct),(none),x,90,EUR\n"
    assert (await client.post("/api/v1/costs/import", content=costs)).status_code == 201


async def test_the_customer_id_is_kept_hashed_and_only_with_analytics_consent(
    client: httpx.AsyncClient, store: Store
) -> None:
    await seed(client)
    await order(client, "o4", 1, value=5, customer_id="account-43")  # no consent
    sales = {s.id: s for s in await store.customer_sales(datetime.now(UTC).timestamp())}
    hashes = [s.customer_hash for s in sorted(sales.values(), key=lambda s: s.id)]
    assert hashes == [sha256("account-42"), sha256("account-42"), None, None]


async def test_the_report_counts_one_customer_per_identity(client: httpx.AsyncClient) -> None:
    await seed(client)
    since = (TODAY - timedelta(days=30)).isoformat()
    r = await client.get("/api/v1/reports/customers", params={"from": since})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["currency"] == "EUR" and body["group_by"] == "channel"
    assert body["horizons_days"] == [30, 90, 365]
    assert "consent" in body["identity"]["counted"]
    assert body["identity"]["unidentified_conversions"] == 1
    assert body["identity"]["unidentified_revenue"] == "30.00"
    (direct,) = body["rows"]
    assert direct["channel"] == "Direct" and direct["new_customers"] == 1
    assert direct["spend"] == "90.00" and direct["cac"] == "90.00"
    assert direct["ltv"]["30"] == {"customers": 0, "per_customer": None, "ltv_cac": None}
    assert body["totals"]["first_revenue"] == "100.00"
    separate = await client.get(
        "/api/v1/reports/customers", params={"from": since, "unidentified": "separate"}
    )
    assert separate.json()["totals"]["new_customers"] == 2


async def test_the_report_as_csv(client: httpx.AsyncClient) -> None:
    await seed(client)
    r = await client.get(
        "/api/v1/reports/customers",
        params={"from": (TODAY - timedelta(days=30)).isoformat(), "format": "csv"},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert rows[0][:6] == ["cohort", "group", "new_customers", "first_revenue", "spend", "cac"]
    assert rows[1][:6] == ["all", "Direct", "1", "100.00", "90.00", "90.00"]
    assert rows[2][:3] == ["all", "(all)", "1"]
    assert rows[3][1:3] == ["Direct", "1"] and len(rows) == 4


async def test_bad_parameters_name_the_field(client: httpx.AsyncClient) -> None:
    for params, name in (
        ({"group_by": "country"}, "group_by"),
        ({"unidentified": "merge"}, "unidentified"),
        ({"model": "linear"}, "model"),
    ):
        r = await client.get("/api/v1/reports/customers", params=params)
        assert 400 <= r.status_code < 500, r.text
        assert name in r.text
