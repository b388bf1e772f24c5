"""CRM deals in: a HubSpot export credits the link click, the visit and the call that led to
each deal; re-importing changes nothing; a bad row stores nothing; e-mails match only an
ads-consented hash; Meta gets the offline action source."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from test_call_user_data import ADS, CALLER, TRACKING, twilio_call
from test_collect import GRANTED, make_site, post_event

from calltools import PUBLIC
from calltools import TWILIO_TOKEN as TOKEN
from firstmark.config import Settings
from firstmark.domain.calls import Lease
from firstmark.domain.userdata import sha256
from firstmark.services import destinations as destinations_service
from firstmark.services.numbers import register
from firstmark.store import Store

FIXTURES = Path(__file__).parent.parent / "fixtures" / "deals"
VISITOR = "deal-visitor-123"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, base_url=PUBLIC, twilio_auth_token=TOKEN)


@pytest.fixture
async def edge(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The public side: short links and provider webhooks."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 443))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as http:
        yield http


def hubspot(**cells: str) -> bytes:
    today = datetime.now(UTC).date().isoformat()
    text = (FIXTURES / "hubspot.csv").read_text()
    return text.format(**{"today": today, "click_token": "", "visitor_id": "", "phone": "",
                          **cells}).encode()  # fmt: skip


async def click(client: httpx.AsyncClient, edge: httpx.AsyncClient) -> str:
    """A click on a short link tagged for the newsletter: the click token it handed on."""
    made = await client.post(
        "/api/v1/links",
        json={"destination": "https://shop.example/", "code": "oslo1",
              "utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "winter"},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    answer = await edge.get("/oslo1")
    assert answer.status_code == 302, answer.text
    [token] = parse_qs(urlsplit(answer.headers["location"]).query)["fm_click"]
    return token


async def visit(client: httpx.AsyncClient, anon: httpx.AsyncClient, app: Any) -> None:
    """A visitor from a ChatGPT answer, with analytics and ads consent."""
    key = await make_site(client)
    body = {"site": key, "vid": VISITOR, "sid": "deal-sess-1", "consent": GRANTED,
            "url": "https://shop.example/", "referrer": "https://chatgpt.com/"}  # fmt: skip
    assert (await post_event(anon, body)).status_code == 202
    await app.state.runtime.event_writer.drain()


async def call(store: Store, edge: httpx.AsyncClient) -> None:
    """A qualified call to a pool number shown to a Bing visitor who consented to ads."""
    now = time.time()
    await register(
        store, {"number": TRACKING, "provider": "twilio", "forward_to": "+14155550199",
                "pool": "website", "qualify_seconds": 30}, now - 60,
    )  # fmt: skip
    lease = await store.take_lease(
        Lease(id="lease-deal", pool="website", started=now - 30, expires=now + 1800,
              consent=ADS, utm_source="bing", utm_medium="cpc", utm_campaign="calls"),
        now - 30,
    )  # fmt: skip
    assert lease is not None
    await twilio_call(edge)


async def test_a_deal_export_credits_the_click_the_visit_and_the_call(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, edge: httpx.AsyncClient,
    store: Store,
) -> None:  # fmt: skip
    token = await click(client, edge)
    await visit(client, anon, app)
    await call(store, edge)
    export = hubspot(click_token=token, visitor_id=VISITOR, phone=CALLER)
    answer = await client.post(
        "/api/v1/conversions/import", params={"preset": "hubspot"},
        files={"file": ("deals.csv", export, "text/csv")},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert (report["imported"], report["matched"], report["unmatched"]) == (4, 3, 2)
    by_deal = {r["deal_id"]: r for r in report["rows"]}
    assert by_deal["9001"]["matched_by"] == "click_token"
    assert by_deal["9002"]["matched_by"] == "visitor_id"
    assert by_deal["9003"]["matched_by"] == "phone" and "call" in by_deal["9003"]["reason"]
    assert by_deal["9004"]["matched_by"] is None and "lost" in by_deal["9004"]["reason"]
    assert by_deal["9005"]["matched_by"] is None and "email" in by_deal["9005"]["reason"]

    attribution = await client.get("/api/v1/reports/attribution", params={"currency": "EUR"})
    assert attribution.status_code == 200, attribution.text
    rows = {(r["source"], r["medium"]): r for r in attribution.json()["rows"]}
    assert rows[("newsletter", "email")]["last_non_direct"] == {
        "conversions": 1.0, "revenue": "1200.00"}  # fmt: skip
    assert rows[("chatgpt.com", "referral")]["last_non_direct"] == {
        "conversions": 1.0, "revenue": "800.00"}  # fmt: skip
    # The call's conversion and the deal it led to, both on the call's channel.
    assert rows[("bing", "cpc")]["last_non_direct"]["revenue"] == "500.00"
    assert rows[("bing", "cpc")]["last_non_direct"]["conversions"] == 2.0

    # The same export again: nothing new.
    again = await client.post(
        "/api/v1/conversions/import", params={"preset": "hubspot"}, content=export,
        headers={"content-type": "text/csv"},
    )  # fmt: skip
    assert again.status_code == 201, again.text
    assert again.json()["imported"] == 0
    assert all(r.get("duplicate", True) for r in again.json()["rows"])
    listed = await client.get("/api/v1/conversions", params={"per_page": 50})
    assert listed.json()["total"] == 5  # the call's own and four deals
    # The stranger's e-mail is nowhere in clear.
    assert "stranger@example.org" not in listed.text


async def test_a_bad_row_stores_nothing_and_names_row_and_field(
    client: httpx.AsyncClient, store: Store
) -> None:
    export = (
        b"Record ID,Deal Stage,Amount,Close Date,Currency,Associated Contact Email\n"
        b"1,closedwon,100,2026-11-30,EUR,\n"
        b"2,closedwon,abc,2026-11-30,EUR,\n"
        b"3,closedwon,5,2026-11-30,EUR,not-an-email\n"
        b",closedwon,5,2026-11-30,EUR,\n"
    )
    answer = await client.post(
        "/api/v1/conversions/import?preset=hubspot", content=export,
        headers={"content-type": "text/csv"},
    )  # fmt: skip
    assert answer.status_code == 422, answer.text
    errors = [(e["row"], e["column"]) for e in answer.json()["error"]["rows"]]
    assert errors == [(3, "value"), (4, "email"), (5, "deal_id")]
    assert "not-an-email" not in answer.text
    assert (await client.get("/api/v1/conversions")).json()["total"] == 0
    assert [g.name for g in await store.list_goals()] == []


async def test_an_email_matches_only_a_hash_kept_under_ads_consent(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/api/v1/goals", json={"name": "signup"})
    for event_id, email, consent in (
        ("signup-ads", "ads@example.com", {"ad_user_data": "granted"}),
        ("signup-none", "none@example.com", {"ad_user_data": "denied"}),
    ):
        sent = await client.post(
            "/api/v1/conversions",
            json={"event_id": event_id, "goal": "signup", "user_data": {"email": email},
                  "consent": consent, "ts": time.time() - 600},
        )  # fmt: skip
        assert sent.status_code == 201, sent.text
    deals = [
        {"deal_id": "A-1", "stage": "won", "ts": int(time.time()), "value": 10,
         "currency": "EUR", "email": " ADS@example.com "},
        {"deal_id": "A-2", "stage": "won", "ts": int(time.time()), "value": 10,
         "currency": "EUR", "email": "none@example.com"},
    ]  # fmt: skip
    answer = await client.post("/api/v1/conversions/import", json={"deals": deals})
    assert answer.status_code == 201, answer.text
    rows = {r["deal_id"]: r for r in answer.json()["rows"]}
    assert rows["A-1"]["matched_by"] == "email"
    assert rows["A-2"]["matched_by"] is None
    assert "ads consent" in rows["A-2"]["reason"]


@pytest.mark.parametrize("option", [None, "physical_store"])
async def test_meta_gets_the_offline_action_source(
    app: Any, client: httpx.AsyncClient, store: Store, option: str | None
) -> None:
    sealer = app.state.runtime.credentials_sealer
    await client.post("/api/v1/goals", json={"name": "signup"})
    # Mapped to a platform before the first import: the deal goal made by hand.
    await client.post("/api/v1/goals", json={"name": "deal_won", "window_days": 180})
    sent = await client.post(
        "/api/v1/conversions",
        json={"event_id": "signup-1", "goal": "signup", "user_data": {"email": "a@example.com"},
              "consent": {"ad_user_data": "granted"},
              "ts": time.time() - 600},
    )  # fmt: skip
    assert sent.status_code == 201, sent.text
    await destinations_service.create(
        store, sealer,
        {"platform": "meta", "name": "meta", "goals": {"deal_won": "Purchase"},
         "credentials": {"pixel_id": "1", "access_token": "EAAB-token"}},
    )  # fmt: skip
    seen: list[dict[str, Any]] = []

    def meta(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        return httpx.Response(200, json={"events_received": len(body["data"])})

    app.state.runtime.forwarder.client = httpx.AsyncClient(transport=httpx.MockTransport(meta))
    params = {"action_source": option} if option else {}
    deal = {"deal_id": "M-1", "stage": "Closed Won", "ts": int(time.time()), "value": "99.50",
            "currency": "EUR", "email": "a@example.com", "order_id": "SO-1"}  # fmt: skip
    answer = await client.post("/api/v1/conversions/import", params=params, json={"deals": [deal]})
    assert answer.status_code == 201, answer.text
    await app.state.runtime.forwarder.drain()
    await app.state.runtime.forwarder.client.aclose()
    [request] = seen
    [event] = request["data"]
    assert event["action_source"] == (option or "system_generated")
    assert event["event_id"] == "crm.won.M-1" and event["event_name"] == "Purchase"
    assert event["user_data"]["em"] == [sha256("a@example.com")]
    assert event["custom_data"] == {"value": 99.5, "currency": "EUR", "order_id": "SO-1"}


async def test_a_dry_run_reports_and_stores_nothing(
    client: httpx.AsyncClient, store: Store
) -> None:
    deal = {"deal_id": "D-1", "stage": "won", "ts": int(time.time()), "visitor_id": "nobody-123"}
    answer = await client.post(
        "/api/v1/conversions/import", json={"deals": [deal], "dry_run": True}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == 0 and answer.json()["unmatched"] == 1
    assert "visitor_id" in answer.json()["rows"][0]["reason"]
    assert (await client.get("/api/v1/conversions")).json()["total"] == 0
    assert await store.list_goals() == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"preset": "zoho"}, "preset"),
        ({"action_source": "website"}, "action_source"),
        ({"colour": "red"}, "colour"),
        ({"preset": "hubspot", "mapping": "deal_id=Id"}, "mapping"),
    ],
)
async def test_bad_options_are_refused_by_name(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    answer = await client.post(
        "/api/v1/conversions/import", params=params, content=hubspot(),
        headers={"content-type": "text/csv"},
    )  # fmt: skip
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["error"]["field"] == field
