"""The Alerts page: what stands now, what resolved lately, and how alerts are sent."""

from __future__ import annotations

import time

import httpx

from firstmark.domain.alerts import Alert
from firstmark.store import Store


async def test_standing_and_resolved_alerts_are_listed(
    dash: httpx.AsyncClient, store: Store
) -> None:
    now = time.time()
    await store.raise_alerts(
        [
            Alert("link.failing", "link:1", "Link 'spring' leads to a failing page (HTTP 404)."),
            Alert("traffic.stopped", "site:2", "Site 'shop.example' had traffic <b>every</b> day"),
        ],
        now - 600,
    )
    await store.resolve_alerts("link.failing", ["link:1"], now - 60)
    page = await dash.get("/dashboard/alerts")
    assert page.status_code == 200
    standing, _, resolved = page.text.partition("Resolved in the last 30 days")
    assert "Traffic stopped" in standing and "&lt;b&gt;every&lt;/b&gt;" in standing
    assert "Link destination failing" in resolved and "HTTP 404" in resolved
    assert "Link destination failing" not in standing
    assert 'href="/dashboard/alerts"' in page.text  # in the navigation
    assert "Scheduled summaries are off" in page.text


async def test_an_empty_page_says_so(dash: httpx.AsyncClient) -> None:
    page = await dash.get("/dashboard/alerts")
    assert "No alert stands now." in page.text
    assert "None resolved in the last 30 days." in page.text
