"""The scheduled summary as its readers get it: the figures of a seeded day against the day
before, by e-mail through a real SMTP server on loopback and as the `report.summary` webhook."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from firstmark.config import Settings
from firstmark.domain.hits import Hit
from firstmark.domain.summary import Period
from firstmark.services import summary
from firstmark.services.mail import MailError
from firstmark.store import Store
from smtptools import smtp_server

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
YESTERDAY = TODAY - timedelta(days=1)
PERIOD = Period("day", TODAY, TODAY + timedelta(days=1))


def hit(link_id: int, ts: float, visitor: str) -> Hit:
    return Hit(link_id, ts, "click", visitor, "NO", None, None, "mobile", "iOS", "Safari",
               None, False, None, None)  # fmt: skip


async def visit(app: Any, peer: str) -> None:
    transport = httpx.ASGITransport(app=app, client=(peer, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://fm.test") as http:
        answer = await http.get("/spring", headers={"user-agent": "Mozilla/5.0 (X11; Linux)"})
        assert answer.status_code == 302


@pytest.fixture
async def seeded(client: httpx.AsyncClient, app: Any, store: Store) -> None:
    """Campaign "spring" (google / cpc). Today: 2 clicks, 30 EUR spend, a 100 EUR order.
    Yesterday: 1 click, 10 EUR spend, a 50 EUR order."""
    made = await client.post(
        "/api/v1/links",
        json={"destination": "https://shop.example/", "code": "spring", "utm_source": "google",
              "utm_medium": "cpc", "utm_campaign": "spring"},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    await visit(app, "8.8.8.8")
    await visit(app, "9.9.9.9")
    await app.state.runtime.writer.drain()
    await store.write_hits([hit(made.json()["id"], YESTERDAY.timestamp() + 3600, "v-old")])
    costs = (
        "date,source,medium,campaign,spend,currency\n"
        f"{TODAY.date()},google,cpc,spring,30.00,EUR\n"
        f"{YESTERDAY.date()},google,cpc,spring,10.00,EUR\n"
    )
    assert (await client.post("/api/v1/costs/import", content=costs)).status_code == 201
    goal = {"name": "order", "kind": "macro", "currency": "EUR"}
    assert (await client.post("/api/v1/goals", json=goal)).status_code == 201
    # Today's order an hour ago, but never before midnight (the test may run at 00:30).
    for event_id, ts, value in (
        ("o-1", max(time.time() - 3600, TODAY.timestamp() + 1), 100),
        ("o-2", YESTERDAY.timestamp() + 7200, 50),
    ):
        order = {"event_id": event_id, "goal": "order", "value": value, "currency": "EUR",
                 "ts": datetime.fromtimestamp(ts, UTC).isoformat()}  # fmt: skip
        answer = await client.post("/api/v1/conversions", json=order)
        assert answer.status_code == 201, answer.text


async def test_the_summary_shows_the_days_figures_against_the_day_before(
    seeded: None, store: Store
) -> None:
    built = await summary.build(store, PERIOD)
    figs = {f.name: (f.value, f.previous, summary._change(f)) for f in built.figures}
    assert built.currency == "EUR"
    assert figs["clicks"] == (2, 1, "+100.0 %")
    assert figs["revenue"][2] == "+100.0 %" and figs["spend"][2] == "+200.0 %"
    assert figs["roas"] == (Decimal("3.3333"), Decimal("5.0000"), "-33.3 %")
    assert figs["cpa"][2] == "+200.0 %"
    # The orders came with no click token or visit: they rank first, under no campaign.
    assert [(r.key, r.clicks) for r in built.campaigns] == [((None,), 0), (("spring",), 2)]
    assert ("Paid Search",) in [r.key for r in built.channels]

    subject, text, html = summary.render(built, "https://fm.example")
    assert subject == f"firstmark: Daily summary, {PERIOD.label}"
    assert "30.00 EUR" in html and "+200.0 %" in html
    assert "(none)" in html and "spring" in html
    assert 'href="https://fm.example/dashboard/reports"' in html
    assert "<img" not in html and "<link" not in html and "<script" not in html
    assert "Ad spend" in text and "30.00 EUR" in text and "before 10.00 EUR" in text


async def test_the_summary_is_mailed_with_html_and_text_parts(
    seeded: None, store: Store, settings: Settings
) -> None:
    async with smtp_server() as server:
        url = server.url.replace("smtp://", "smtp://mailer:s3cret@")
        mailing = replace(settings, smtp_url=url, smtp_from="reports@fm.example")
        built = await summary.build(store, PERIOD)
        sent = await summary.deliver(store, mailing, built, ["ops@example.com", "cmo@example.com"])
    assert sent.recipients == 2
    [got] = server.received
    assert got.recipients == ["ops@example.com", "cmo@example.com"]
    assert got.sender == "reports@fm.example" and got.login == "mailer:s3cret"
    assert got.message["Subject"] == f"firstmark: Daily summary, {PERIOD.label}"
    assert got.message["To"] == "ops@example.com, cmo@example.com"
    assert "+100.0 %" in got.html() and "Top campaigns" in got.html()
    assert "Revenue" in got.text()


async def test_a_refused_login_is_a_clear_error_without_the_password(
    store: Store, settings: Settings
) -> None:
    async with smtp_server() as server:
        server.refuse_login = True
        url = server.url.replace("smtp://", "smtp://mailer:s3cret@")
        built = await summary.build(store, PERIOD)
        with pytest.raises(MailError) as failed:
            await summary.deliver(store, replace(settings, smtp_url=url), built, ["a@example.com"])
    assert "535" in str(failed.value) and "s3cret" not in str(failed.value)
    assert server.received == []


async def test_the_summary_webhook_is_queued_for_subscribers(
    seeded: None, store: Store, client: httpx.AsyncClient, app: Any, settings: Settings
) -> None:
    from test_webhook_events import bodies, queued, subscribe

    await subscribe(app, client, ["report.summary"])
    sent = await summary.deliver(store, settings, await summary.build(store, PERIOD))
    assert sent == summary.Sent(recipients=0, webhooks=1)  # no relay set: webhooks only
    [body] = bodies(await queued(store))
    assert body["type"] == "report.summary"
    data = body["data"]["summary"]
    assert data["period"] == "day" and data["currency"] == "EUR"
    assert data["from"] == TODAY.strftime("%Y-%m-%dT00:00:00Z")
    assert data["figures"]["clicks"] == {"value": 2, "previous": 1, "change_percent": "100.0"}
    assert [c["campaign"] for c in data["top_campaigns"]] == [None, "spring"]
    assert data["top_campaigns"][0]["revenue"] == "100.00"
    assert json.dumps(data).find("8.8.8.8") == -1


async def test_a_period_is_sent_once_whichever_node_asks(store: Store, settings: Settings) -> None:
    weekly = replace(settings, report_schedule="weekly")
    monday = datetime(2026, 12, 7, 7, tzinfo=UTC)
    assert await summary.send_due(store, weekly, monday) == summary.Sent(0, 0)
    assert await summary.send_due(store, weekly, monday) is None  # claimed already
