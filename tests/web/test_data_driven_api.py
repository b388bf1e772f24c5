"""Data-driven attribution beside the five models: the e-mail opens / search closes demo
through the API, its CSV and the dashboard table; the minimum; Shapley values."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.events import Touch
from firstmark.domain.goals import Goal
from firstmark.store import Store
from pathdemo import seed_demo


def _row(body: dict[str, Any], source: str) -> dict[str, Any]:
    rows = body["rows"]
    assert isinstance(rows, list)
    return next(r for r in rows if r["source"] == source)


async def test_email_that_opens_journeys_gets_credit_only_data_driven_sees(
    client: httpx.AsyncClient, store: Store
) -> None:
    await seed_demo(store)
    answer = await client.get("/api/v1/reports/attribution", params={"currency": "EUR"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["models"][-1] == "data_driven" and body["data_driven_note"] is None
    assert body["data_driven"]["paths"] == 500 and body["data_driven"]["converting_paths"] == 220
    email, search = _row(body, "newsletter"), _row(body, "google")
    assert email["last_non_direct"] == {"conversions": 0.0, "revenue": "0.00"}
    # Removal effects: e-mail 2/3 (two thirds of the conversions are lost without it),
    # search 1; each of the 200 two-step journeys gives e-mail 2/5 of its sale.
    assert email["data_driven"]["conversions"] == 80.0
    assert email["data_driven"]["revenue"] == "4000.00"
    assert search["data_driven"]["conversions"] == 140.0
    assert abs(email["data_driven"]["weight"] - 2 / 3) < 1e-6
    total = sum(r["data_driven"]["conversions"] for r in body["rows"])
    assert total == 220.0

    download = await client.get(
        "/api/v1/reports/attribution", params={"currency": "EUR", "format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(download.text.lstrip("\ufeff"))))
    by_source = {r["source"]: r for r in rows}
    assert by_source["newsletter"]["last_non_direct_conversions"] == "0.0"
    assert by_source["newsletter"]["data_driven_conversions"] == "80.0"
    assert by_source["newsletter"]["data_driven_revenue"] == "4000.00"


async def test_the_dashboard_table_shows_the_data_driven_share(
    dash: httpx.AsyncClient, store: Store
) -> None:
    await seed_demo(store)
    page = (await dash.get("/dashboard/attribution", params={"group_by": "source"})).text
    assert "Data-driven" in page and "learned from 500 paths, 220 of them converting" in page
    row = re.search(r'<tr data-key="newsletter">(.*?)</tr>', page, re.S)
    assert row is not None
    assert '<td class="num" data-model="last_non_direct">0.00</td>' in row.group(1)
    assert '<td class="num" data-model="data_driven">80.00</td>' in row.group(1)
    download = await dash.get("/dashboard/attribution.csv", params={"group_by": "source"})
    assert download.status_code == 200 and "data_driven_conversions" in download.text


async def test_below_the_minimum_the_cells_are_empty_with_the_note(
    client: httpx.AsyncClient, dash: httpx.AsyncClient, store: Store
) -> None:
    goal = await store.insert_goal(Goal(name="purchase", created_at=datetime.now(UTC)))
    now = time.time() - 60
    await store.write_events(
        [], [Touch(now - 60, visitor_id=f"v{n}", utm_source="newsletter") for n in range(30)], []
    )
    await store.insert_conversions(
        [
            Conversion(event_id=f"o{n}", goal_id=goal.id or 0, ts=now, consent=Consent(),
                       source="server", value=10.0, currency="EUR", visitor_id=f"v{n}")
            for n in range(30)
        ]
    )  # fmt: skip
    body = (await client.get("/api/v1/reports/attribution")).json()
    row = _row(body, "newsletter")
    assert row["linear"]["conversions"] == 30.0
    assert row["data_driven"] == {"conversions": None, "revenue": None, "weight": None}
    assert body["data_driven_note"] == (
        "Data-driven attribution needs at least 100 converting journeys in the range and "
        "there are 30; widen the date range."
    )
    download = await client.get("/api/v1/reports/attribution", params={"format": "csv"})
    line = next(r for r in download.text.splitlines() if r.startswith("newsletter"))
    assert line.endswith(",—,—")
    page = (await dash.get("/dashboard/attribution", params={"group_by": "source"})).text
    assert "needs at least 100 converting journeys" in page
    assert '<td class="num muted" data-model="data_driven">—</td>' in page


async def test_shapley_values_and_their_limit(client: httpx.AsyncClient, store: Store) -> None:
    await seed_demo(store)
    answer = await client.get(
        "/api/v1/reports/attribution", params={"currency": "EUR", "data_driven": "shapley"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["data_driven"]["method"] == "shapley"
    assert sum(r["data_driven"]["conversions"] for r in body["rows"]) == 220.0
    assert _row(body, "newsletter")["data_driven"]["conversions"] > 0
    await store.write_events(
        [], [Touch(1e9 + n, visitor_id=f"many-{n}", utm_source=f"s{n}") for n in range(13)], []
    )
    many = await client.get(
        "/api/v1/reports/attribution",
        params={"data_driven": "shapley", "from": "2001-09-01", "to": "2001-09-30"},
    )
    assert many.status_code in (400, 422)
    error = many.json()["error"]
    assert error["field"] == "data_driven" and "12 groups at most" in error["message"]
    bad = await client.get("/api/v1/reports/attribution", params={"data_driven": "magic"})
    assert bad.status_code in (400, 422) and bad.json()["error"]["field"] == "data_driven"


async def test_the_dashboard_says_why_it_shows_the_chain_instead_of_shapley(
    dash: httpx.AsyncClient, store: Store
) -> None:
    now = time.time() - 60
    await store.write_events(
        [], [Touch(now, visitor_id=f"v{n}", utm_source=f"s{n}") for n in range(13)], []
    )
    page = (await dash.get("/dashboard/attribution", params={"data_driven": "shapley"})).text
    error = re.search(r'<p class="error" id="err-data_driven">([^<]*)</p>', page)
    assert error is not None and "12 groups at most" in error.group(1)
    assert '<option value="markov" selected>' in page
    refused = await dash.get("/dashboard/attribution.csv", params={"data_driven": "shapley"})
    assert refused.status_code == 422
