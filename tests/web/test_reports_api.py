"""Reports as a marketer reads them: what each channel brought and cost, under each model."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from agents import DESKTOP, IPHONE
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.events import Touch
from firstmark.store import Store

TODAY = datetime.now(UTC).date().isoformat()


async def visit(app: Any, path: str, peer: str, ua: str = DESKTOP) -> None:
    transport = httpx.ASGITransport(app=app, client=(peer, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://fm.test") as http:
        assert (await http.get(path, headers={"user-agent": ua})).status_code == 302


async def link(client: httpx.AsyncClient, code: str, source: str, medium: str) -> int:
    body = {
        "destination": "https://shop.example/",
        "code": code,
        "utm_source": source,
        "utm_medium": medium,
        "utm_campaign": "spring",
    }
    r = await client.post("/api/v1/links", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def convert(client: httpx.AsyncClient, event_id: str, **fields: Any) -> None:
    r = await client.post(
        "/api/v1/conversions", json={"event_id": event_id, "goal": "order", **fields}
    )
    assert r.status_code == 201, r.text


@pytest.fixture
async def seeded(client: httpx.AsyncClient, app: Any, store: Store) -> dict[str, int]:
    """Google ads link: 3 human clicks from 2 people and a bot; newsletter link: 1 click.
    Google spend 30 EUR for 1,000 impressions and 20 ad clicks. Conversions: 100 EUR through a
    Google click token; 50 EUR from a visitor who came by newsletter, then by Google; 9 USD."""
    google = await link(client, "g", "google", "cpc")
    news = await link(client, "nl", "newsletter", "email")
    await visit(app, "/g", "8.8.8.8")
    await visit(app, "/g", "8.8.8.8")  # the same person again
    await visit(app, "/g", "9.9.9.9", IPHONE)
    await visit(app, "/g", "1.1.1.1", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")
    await visit(app, "/nl", "8.8.4.4")
    await app.state.runtime.writer.drain()

    costs = (
        "date,source,medium,campaign,spend,currency,impressions,clicks\n"
        f"{TODAY},google,cpc,spring,30.00,EUR,1000,20\n"
    )
    assert (await client.post("/api/v1/costs/import", content=costs)).status_code == 201
    goal = {"name": "order", "kind": "macro", "currency": "EUR", "window_days": 30}
    assert (await client.post("/api/v1/goals", json=goal)).status_code == 201

    now = time.time()
    await store.write_events(
        [],
        [
            Touch(now - 3600, visitor_id="visitor-0001", link_id=news, utm_source="newsletter",
                  utm_medium="email", utm_campaign="spring"),
            Touch(now - 600, visitor_id="visitor-0001", link_id=google, utm_source="google",
                  utm_medium="cpc", utm_campaign="spring"),
        ],
        [],
    )  # fmt: skip
    token = ClickSigner("test-secret").token(google, now - 120)
    await convert(client, "o-1", value=100, currency="EUR", click_token=token)
    analytics = {"analytics_storage": "granted"}
    await convert(
        client, "o-2", value=50, currency="EUR", visitor_id="visitor-0001", consent=analytics
    )
    await convert(client, "o-3", value=9, currency="USD")
    return {"google": google, "news": news}


async def test_channels_table_brings_traffic_costs_and_conversions_together(
    client: httpx.AsyncClient, seeded: dict[str, int]
) -> None:
    r = await client.get("/api/v1/reports/channels")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["currency"] == "EUR" and body["other_currencies"] == ["USD"]
    rows = {(row["source"], row["medium"]): row for row in body["rows"]}
    google = rows[("google", "cpc")]
    assert (google["clicks"], google["humans"], google["bots"], google["uniques"]) == (3, 3, 1, 2)
    assert (google["impressions"], google["ad_clicks"], google["spend"]) == (1000, 20, "30.00")
    assert (google["conversions"], google["revenue"]) == ("2", "150.00")
    assert google["ctr"] == "2.00"  # 20 ad clicks / 1,000 impressions
    assert google["cpc"] == "1.50"  # 30 EUR / 20 ad clicks
    assert google["cpa"] == "15.00" and google["roas"] == "5.0000" and google["roi"] == "400.00"
    assert google["conversion_rate"] == "100.00" and google["rpv"] == "75.00"
    email = rows[("newsletter", "email")]
    assert email["spend"] is None and email["cpc"] is None and email["roas"] is None
    assert email["clicks"] == 1 and email["conversions"] == "0"
    # The USD conversion counts nowhere in EUR, and no row invents a channel for it.
    assert body["totals"]["revenue"] == "150.00" and body["totals"]["conversions"] == "2"


async def test_csv_export_shows_a_dash_where_there_is_no_value(
    client: httpx.AsyncClient, seeded: dict[str, int]
) -> None:
    r = await client.get("/api/v1/reports/channels", params={"format": "csv"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    # UTF-8 behind a byte-order mark, which is how a spreadsheet reads it: "—" stays "—".
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    rows = {(row["source"], row["medium"]): row for row in csv.DictReader(io.StringIO(text))}
    assert rows[("newsletter", "email")]["cpc"] == "—"
    assert rows[("newsletter", "email")]["spend"] == "—"
    assert rows[("google", "cpc")]["cpc"] == "1.50"


async def test_usd_view_and_by_link(client: httpx.AsyncClient, seeded: dict[str, int]) -> None:
    r = await client.get("/api/v1/reports/overview", params={"currency": "usd"})
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["revenue"] == "9.00" and r.json()["totals"]["spend"] is None
    by_link = await client.get("/api/v1/reports/table", params={"group_by": "link,campaign"})
    rows = {row["link"]: row for row in by_link.json()["rows"]}
    assert rows[seeded["google"]]["clicks"] == 3 and rows[seeded["google"]]["spend"] is None


async def test_overview_series_by_day(client: httpx.AsyncClient, seeded: dict[str, int]) -> None:
    body = (await client.get("/api/v1/reports/overview")).json()
    assert body["totals"]["clicks"] == 4 and body["totals"]["spend"] == "30.00"
    today = [d for d in body["series"] if d["day"] == TODAY]
    assert today and today[0]["clicks"] == 4 and today[0]["revenue"] == "150.00"


async def test_attribution_models_side_by_side(
    client: httpx.AsyncClient, seeded: dict[str, int]
) -> None:
    r = await client.get("/api/v1/reports/attribution")
    assert r.status_code == 200, r.text
    rows = {(row["source"], row["medium"]): row for row in r.json()["rows"]}
    google, email = rows[("google", "cpc")], rows[("newsletter", "email")]
    # The click-token conversion (100) is Google's under every model; the visitor's (50) goes
    # first-touch to the newsletter, last-touch to Google, half and half linearly.
    assert google["last_non_direct"] == {"conversions": 2.0, "revenue": "150.00"}
    assert google["first_touch"] == {"conversions": 1.0, "revenue": "100.00"}
    assert email["first_touch"] == {"conversions": 1.0, "revenue": "50.00"}
    assert google["linear"] == {"conversions": 1.5, "revenue": "125.00"}
    assert email["position_based"]["revenue"] == "25.00"
    *rule_based, data_driven = r.json()["models"]
    for model in rule_based:
        assert sum(row[model]["conversions"] for row in rows.values()) == pytest.approx(2)
    # Two conversions are too few to learn from: the data-driven cells say so.
    assert data_driven == "data_driven" and google[data_driven]["conversions"] is None
    assert "at least 100" in r.json()["data_driven_note"]
    answer = await client.get("/api/v1/reports/attribution", params={"format": "csv"})
    csv_body = answer.content.decode("utf-8-sig")
    assert csv_body.splitlines()[0].startswith("source,medium,first_touch_conversions")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/reports/table", {"group_by": "country"}, "group_by"),
        ("/api/v1/reports/channels", {"currency": "EURO"}, "currency"),
        ("/api/v1/reports/channels", {"format": "xlsx"}, "format"),
        ("/api/v1/reports/channels", {"colour": "red"}, "colour"),
        ("/api/v1/reports/attribution", {"half_life_days": "0"}, "half_life_days"),
        ("/api/v1/reports/overview", {"from": "2026-11-30", "to": "2026-11-01"}, "from"),
    ],
)
async def test_bad_report_requests_name_the_field(
    client: httpx.AsyncClient, path: str, params: dict[str, str], field: str
) -> None:
    r = await client.get(path, params=params)
    assert r.status_code == (400 if field == "colour" else 422), r.text  # unknown: 400
    assert r.json()["error"]["field"] == field


async def test_unknown_report_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/reports/weather")).status_code == 404


async def test_attribution_keeps_up_with_new_conversions_and_late_touches(
    client: httpx.AsyncClient, seeded: dict[str, int], store: Store
) -> None:
    first = (await client.get("/api/v1/reports/attribution")).json()["rows"]
    google = {(r["source"], r["medium"]): r for r in first}[("google", "cpc")]
    assert google["last_non_direct"]["revenue"] == "150.00"

    # A new sale by the visitor who came by newsletter then Google; then a touch of theirs from
    # five minutes ago (after the Google one) arrives late.
    analytics = {"analytics_storage": "granted"}
    await convert(client, "o-4", value=20, currency="EUR", visitor_id="visitor-0001",
                  consent=analytics)  # fmt: skip
    rows = {(r["source"], r["medium"]): r for r in
            (await client.get("/api/v1/reports/attribution")).json()["rows"]}  # fmt: skip
    assert rows[("google", "cpc")]["last_non_direct"]["revenue"] == "170.00"

    await store.write_events(
        [], [Touch(time.time() - 300, visitor_id="visitor-0001", utm_source="bing",
                   utm_medium="cpc")], []
    )  # fmt: skip
    rows = {(r["source"], r["medium"]): r for r in
            (await client.get("/api/v1/reports/attribution")).json()["rows"]}  # fmt: skip
    # Both of the visitor's sales now end with the late Bing touch.
    assert rows[("bing", "cpc")]["last_non_direct"]["revenue"] == "70.00"
    assert rows[("google", "cpc")]["last_non_direct"]["revenue"] == "100.00"
    # Another half-life is worked out on the spot, from the same touches.
    live = await client.get("/api/v1/reports/attribution", params={"half_life_days": "3"})
    rows = {(r["source"], r["medium"]): r for r in live.json()["rows"]}
    assert rows[("bing", "cpc")]["last_non_direct"]["revenue"] == "70.00"
