"""What queues a webhook: link edits, conversions (and leads), calls, a destination needing
re-authorisation, clicks and scans counted per minute or sampled. Payloads carry no personal
data; a repeated conversion is not sent twice."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import replace
from typing import Any

import httpx

from firstmark.domain.webhooks import QueuedMessage
from firstmark.forward.worker import Forwarder
from firstmark.services import webhooks
from firstmark.store import Store

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile"


async def subscribe(app: Any, client: httpx.AsyncClient, events: list[str], **more: Any) -> int:
    rt = app.state.runtime
    app.state.runtime = replace(rt, settings=replace(rt.settings, webhook_allow_private=True))
    answer = await client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/in", "events": events, **more}
    )
    assert answer.status_code == 201, answer.text
    endpoint_id: int = answer.json()["id"]
    return endpoint_id


async def queued(store: Store) -> list[QueuedMessage]:
    return await store.claim_webhooks("test", 1000, 60.0)


def bodies(messages: list[QueuedMessage]) -> list[dict[str, Any]]:
    return [json.loads(m.body) for m in messages]


async def test_link_edits_are_sent(app: Any, client: httpx.AsyncClient, store: Store) -> None:
    await subscribe(app, client, ["link.created", "link.updated", "link.archived"])
    made = await client.post(
        "/api/v1/links", json={"destination": "https://shop.example/", "code": "spring"}
    )
    link_id = made.json()["id"]
    await client.patch(f"/api/v1/links/{link_id}", json={"utm_campaign": "spring24"})
    await client.delete(f"/api/v1/links/{link_id}")
    got = bodies(await queued(store))
    assert [b["type"] for b in got] == ["link.created", "link.updated", "link.archived"]
    assert got[1]["data"]["link"]["utm_campaign"] == "spring24"
    assert got[2]["data"]["link"] == {**got[2]["data"]["link"], "id": link_id, "archived": True}
    assert all(b["data"]["link"]["code"] == "spring" for b in got)


async def test_conversions_and_leads_once_with_hashes_only_under_consent(
    app: Any, client: httpx.AsyncClient, store: Store
) -> None:
    await subscribe(app, client, ["conversion.created", "lead.created"])
    assert (await client.post("/api/v1/goals", json={"name": "lead_form"})).status_code == 201
    base = {
        "goal": "lead_form",
        "value": 10,
        "currency": "EUR",
        "client_ip": "198.51.100.4",
        "user_data": {"email": "Jane.Doe@example.com"},
        "visitor_id": "visitor-12345",
    }
    granted = {"ad_user_data": "granted", "ad_personalization": "granted"}
    for event_id, consent in (("c-1", granted), ("c-2", {"ad_user_data": "denied"})):
        answer = await client.post(
            "/api/v1/conversions", json={**base, "event_id": event_id, "consent": consent}
        )
        assert answer.status_code == 201, answer.text
    again = await client.post("/api/v1/conversions", json={**base, "event_id": "c-1"})
    assert again.json()["duplicate"] is True
    got = bodies(await queued(store))
    kinds = sorted((b["type"], b["data"]["conversion"]["event_id"]) for b in got)
    assert kinds == [
        ("conversion.created", "c-1"), ("conversion.created", "c-2"),
        ("lead.created", "c-1"), ("lead.created", "c-2"),
    ]  # fmt: skip
    text = json.dumps(got)
    assert "visitor-12345" not in text and "198.51.100.4" not in text
    assert "jane" not in text.lower()
    by_id = {b["data"]["conversion"]["event_id"]: b["data"]["conversion"] for b in got}
    hashed = by_id["c-1"]["hashed_user_data"]["em"]
    assert hashed == hashlib.sha256(b"jane.doe@example.com").hexdigest()
    assert "hashed_user_data" not in by_id["c-2"]


async def test_clicks_per_minute_and_sampled(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    counted = await subscribe(app, client, ["link.clicked", "qr.scanned"])
    sampled = await subscribe(app, client, ["link.clicked"], click_mode="sample", sample_every=2)
    made = await client.post(
        "/api/v1/links", json={"destination": "https://shop.example/", "code": "poster"}
    )
    link_id = made.json()["id"]
    for path in ("/poster", "/poster", "/poster", "/q/poster"):
        assert (await anon.get(path, headers={"user-agent": IPHONE})).status_code == 302
    await app.state.runtime.writer.drain()
    feed = app.state.runtime.webhook_sender.feed
    feed.clock = lambda: time.time() + 120  # the minute is over
    await feed.flush()
    got = await queued(store)
    mine = [json.loads(m.body) for m in got if m.endpoint_id == counted]
    assert sorted((b["type"], b["data"]["count"]) for b in mine) == [
        ("link.clicked", 3),
        ("qr.scanned", 1),
    ]
    assert all(b["data"]["link"] == {"id": link_id} for b in mine)
    one_in_two = [json.loads(m.body) for m in got if m.endpoint_id == sampled]
    assert [b["data"]["sampled"] for b in one_in_two] == [True, True]  # clicks 1 and 3
    assert {b["data"]["sample_every"] for b in one_in_two} == {2}


async def test_a_destination_needing_reauth_is_sent(
    app: Any, client: httpx.AsyncClient, store: Store
) -> None:
    await subscribe(app, client, ["destination.needs_reauth"])
    dest = await client.post(
        "/api/v1/destinations",
        json={"platform": "meta", "name": "Meta EU",
              "credentials": {"pixel_id": "1234567890", "access_token": "tok-secret-1"}},
    )  # fmt: skip
    assert dest.status_code == 201, dest.text
    saved = await store.get_destination(dest.json()["id"])
    assert saved is not None
    forwarder: Forwarder = app.state.runtime.forwarder
    await forwarder._needs_reauth(saved, "HTTP 401: token tok-secret-1 expired", ["tok-secret-1"])
    (body,) = bodies(await queued(store))
    assert body["type"] == "destination.needs_reauth"
    assert body["data"] == {"destination": {"id": saved.id, "platform": "meta", "name": "Meta EU"}}
    assert await webhooks.emit(store, "call.completed", {"call": {}}) == 0  # not subscribed
