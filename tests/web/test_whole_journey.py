"""The whole journey at the API level: a site, a visitor from chatgpt.com who comes back and
buys, a Google Ads visitor (gclid, no short link) and a direct visitor show up under the right
channels; the purchase goes to AI Assistants in last-touch and is shared in the other models."""

from __future__ import annotations

import re
from typing import Any

import httpx
from test_collect import GRANTED, UA, make_site, post_event

from firstmark.store import Store

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)


async def journey(client: httpx.AsyncClient, anon: httpx.AsyncClient, app: Any) -> str:
    key = await make_site(client)
    made = await client.post("/api/v1/goals", json={"name": "purchase", "event_name": "purchase"})
    assert made.status_code == 201, made.text
    site = "https://shop.example"
    buyer = {"site": key, "vid": "buyer-1234567", "consent": GRANTED}
    sent = [
        # The buyer finds the shop in a ChatGPT answer, reads two pages ...
        ({**buyer, "sid": "visit-one-1", "url": f"{site}/", "referrer": "https://chatgpt.com/"},
         UA),
        ({**buyer, "sid": "visit-one-1", "url": f"{site}/pricing"}, UA),
        # ... comes back later by typing the address, and buys.
        ({**buyer, "sid": "visit-two-2", "url": f"{site}/"}, UA),
        ({**buyer, "sid": "visit-two-2", "type": "conversion", "name": "purchase",
          "value": 100, "currency": "EUR", "url": f"{site}/thanks", "event_id": "order-1"}, UA),
        # A Google Ads click, no short link, no consent.
        ({"site": key, "url": f"{site}/shoes", "landing": {"gclid": "Cj0KCQ-abc"}}, FIREFOX),
        ({"site": key, "url": f"{site}/shoes/red"}, FIREFOX),
        # A direct visitor who leaves at once.
        ({"site": key, "url": f"{site}/"}, SAFARI),
    ]  # fmt: skip
    for body, agent in sent:
        answer = await post_event(anon, body, **{"user-agent": agent})
        assert answer.status_code == 202, answer.text
    await app.state.runtime.event_writer.drain()
    return key


async def test_the_whole_journey(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    await journey(client, anon, app)
    # Channels: visits and visitors next to link traffic, conversions where they belong.
    report = await client.get("/api/v1/reports/channel-groups", params={"currency": "EUR"})
    assert report.status_code == 200, report.text
    rows = {r["channel"]: r for r in report.json()["rows"]}
    assert {c: (r["visits"], r["visitors"]) for c, r in rows.items()} == {
        "AI Assistants": (1, 1),
        "Paid Search": (1, 1),
        "Direct": (2, 2),
    }
    # Stored with the conversion: its last non-direct touch (the ChatGPT visit).
    assert rows["AI Assistants"]["conversions"] == "1"
    assert rows["AI Assistants"]["conversion_rate"] == "100.00"
    assert rows["Paid Search"]["conversions"] == "0"
    totals = report.json()["totals"]
    assert (totals["visits"], totals["visitors"]) == (4, 4)

    # The five models side by side: last-touch skips the direct return visit.
    attribution = await client.get(
        "/api/v1/reports/attribution", params={"group_by": "channel", "currency": "EUR"}
    )
    assert attribution.status_code == 200, attribution.text
    by = {r["channel"]: r for r in attribution.json()["rows"]}
    assert by["AI Assistants"]["last_non_direct"] == {"conversions": 1.0, "revenue": "100.00"}
    assert by["AI Assistants"]["first_touch"] == {"conversions": 1.0, "revenue": "100.00"}
    assert by["Direct"]["last_non_direct"] == {"conversions": 0.0, "revenue": "0.00"}
    for model in ("linear", "position_based"):
        assert by["AI Assistants"][model] == {"conversions": 0.5, "revenue": "50.00"}
        assert by["Direct"][model] == {"conversions": 0.5, "revenue": "50.00"}
    decay = by["AI Assistants"]["time_decay"]["conversions"]
    assert 0 < decay < 1 and by["Direct"]["time_decay"]["conversions"] == round(1 - decay, 6)
    # By source and medium, the same credit under the visit's referrer.
    plain = await client.get("/api/v1/reports/attribution", params={"currency": "EUR"})
    sources = {(r["source"], r["medium"]): r for r in plain.json()["rows"]}
    assert sources[("chatgpt.com", "referral")]["last_non_direct"]["conversions"] == 1.0


async def test_a_backend_conversion_with_the_visitor_id_is_credited_over_visits(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key = await make_site(client)
    await client.post("/api/v1/goals", json={"name": "lead", "event_name": "lead"})
    body = {"site": key, "vid": "lead-1234567", "sid": "sess-lead-1", "consent": GRANTED,
            "url": "https://shop.example/", "referrer": "https://www.perplexity.ai/"}  # fmt: skip
    assert (await post_event(anon, body)).status_code == 202
    await app.state.runtime.event_writer.drain()
    sent = await client.post(
        "/api/v1/conversions",
        json={"event_id": "crm-1", "goal": "lead", "visitor_id": "lead-1234567",
              "consent": {"analytics_storage": "granted"}},
    )  # fmt: skip
    assert sent.status_code in (200, 201, 202), sent.text
    attribution = await client.get("/api/v1/reports/attribution", params={"group_by": "channel"})
    by = {r["channel"]: r for r in attribution.json()["rows"]}
    assert by["AI Assistants"]["last_non_direct"]["conversions"] == 1.0


async def test_the_web_overview_and_channels_show_the_journey(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key = await journey(client, anon, app)
    found = await store.site_by_key(key)
    assert found is not None
    overview = await client.get("/api/v1/web/overview", params={"site": found.id})
    totals = overview.json()["totals"]
    # The buyer is one visitor over two visits (consented: one visitor id).
    assert (totals["visitors"], totals["visits"], totals["pageviews"]) == (3, 4, 6)
    assert (totals["conversions"], totals["revenue"]) == (1, "100.00")
    channels = await client.get("/api/v1/web/channels", params={"site": found.id})
    rows = {r["key"]: r for r in channels.json()["rows"]}
    assert {k: r["visits"] for k, r in rows.items()} == {
        "AI Assistants": 1, "Paid Search": 1, "Direct": 2,
    }  # fmt: skip
    # The purchase happened in the direct return visit; attribution credits it elsewhere.
    assert rows["Direct"]["conversions"] == 1 and rows["Paid Search"]["bounce_rate"] == 0.0


async def test_the_dashboard_report_counts_site_visitors(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    from dashtools import PASSWORD, log_in, make_client
    from firstmark.domain.passwords import hash_password

    await journey(client, anon, app)
    await store.insert_user("admin", hash_password(PASSWORD), "owner")
    async with await make_client(app) as dash:
        assert (await log_in(dash)).status_code == 303
        page = await dash.get(
            "/dashboard/reports/channels", params={"cols": ["clicks", "scans", "visitors"]}
        )
    assert page.status_code == 200
    # No link was clicked: the visitors column counts the site's visitors of each row.
    row = page.text.split('<th scope="row">chatgpt.com</th>', 1)[1].split("</tr>", 1)[0]
    cells = {
        key: text.split("<", 1)[0]
        for key, text in re.findall(r'<td class="num" data-col="(\w+)">([^<]*)', row)
    }
    assert (cells["clicks"], cells["scans"], cells["visitors"]) == ("0", "0", "1")
