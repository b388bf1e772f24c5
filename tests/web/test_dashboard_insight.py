"""The customers and budget pages as a marketer reads them."""

from __future__ import annotations

import httpx

from firstmark.domain.budget import Curve
from firstmark.store import Store
from insighttools import TODAY, midnight, order_goal, seed_budget, sell, spends, touch

SEARCH = Curve(300.0, 3000.0)
SOCIAL = Curve(150.0, 60.0)


async def test_the_customers_page_shows_cac_and_what_consent_leaves_out(
    dash: httpx.AsyncClient, store: Store
) -> None:
    goal = await order_goal(store)
    t0 = midnight(TODAY) - 2 * 86_400
    await touch(store, "ann-laptop-01", t0, "google", "cpc")
    await sell(store, goal, "a1", t0 + 60, 120, visitor="ann-laptop-01")
    await sell(store, goal, "x1", t0 + 120, 30)  # no identity
    page = await dash.get("/dashboard/customers")
    assert page.status_code == 200
    assert 'href="/dashboard/customers"' in page.text  # in the navigation
    assert '<tr data-key="Paid Search"><th scope="row">Paid Search</th>' in page.text
    assert "1 conversions" in page.text and "are left out" in page.text
    assert "Download CSV" in page.text  # the admin may download
    csv = await dash.get("/dashboard/customers.csv")
    assert csv.status_code == 200 and "Paid Search" in csv.text
    alone = await dash.get("/dashboard/customers?unidentified=separate")
    assert "counts as a new customer of its own" in alone.text


async def test_the_budget_page_says_why_there_is_no_suggestion(
    dash: httpx.AsyncClient, store: Store
) -> None:
    empty = await dash.get("/dashboard/budget")
    assert empty.status_code == 200
    assert "a reallocation needs at least two channels with spend" in empty.text
    first = await seed_budget(
        store,
        [
            ("google", "cpc", spends(30, seed=7), SEARCH.value),
            ("facebook", "paid_social", [200.0] * 30, SOCIAL.value),
        ],
    )
    refused = await dash.get(f"/dashboard/budget?from={first}&to={TODAY}")
    assert "Paid Social: 1 distinct daily spend levels" in refused.text
    assert 'id="verdict"' not in refused.text


async def test_the_budget_page_moves_money_to_the_unsaturated_channel(
    dash: httpx.AsyncClient, store: Store
) -> None:
    first = await seed_budget(
        store,
        [
            ("google", "cpc", spends(30, seed=7), SEARCH.value),
            ("facebook", "paid_social", spends(30, seed=8), SOCIAL.value),
        ],
    )
    page = await dash.get(f"/dashboard/budget?from={first}&to={TODAY}&model=linear")
    assert page.status_code == 200 and 'id="verdict"' in page.text
    rows = page.text.split('<tr data-key="')[1:]
    change = {r.split('"')[0]: r.split('data-column="change">')[1].split("<")[0] for r in rows}
    assert not change["Paid Search"].startswith("-")
    assert change["Paid Social"].startswith("-")
    assert 'option value="linear" selected' in page.text
    assert page.text.count('<svg class="chart curve"') == 2  # a response curve per channel
