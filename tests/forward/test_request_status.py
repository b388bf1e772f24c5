"""Google Data Manager's later verdict: the worker keeps the requestId of each ingest, asks
`requestStatus:retrieve` for it, and writes what Google made of the events into the
delivery log; a request still PROCESSING is asked about again, a final one never."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from firstmark.config import Settings
from firstmark.domain import conversions
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.destinations import DeliveryFilter, Destination
from firstmark.domain.goals import Goal
from firstmark.forward import requeststatus
from firstmark.forward.worker import Forwarder
from firstmark.sealing import Sealer
from firstmark.services import conversions as conversions_service
from firstmark.services import destinations as destinations_service
from firstmark.store import Store

ADS = {"ad_user_data": "granted", "analytics_storage": "granted"}
FAILED = {
    "requestStatusPerDestination": [
        {
            "requestStatus": "PARTIAL_SUCCESS",
            "eventsIngestionStatus": {"recordCount": "2"},
            "errorInfo": {"errorCounts": [{"recordCount": "1", "reason": "INVALID_GCLID"}]},
        }
    ]
}


def test_diagnostics_in_one_line() -> None:
    assert requeststatus.diagnostics(FAILED) == "PARTIAL_SUCCESS: 2 records; 1 INVALID_GCLID"
    processing = {"requestStatusPerDestination": [{"requestStatus": "PROCESSING"}]}
    assert requeststatus.diagnostics(processing) == "PROCESSING"
    assert requeststatus.diagnostics({}) is None and requeststatus.diagnostics("x") is None


async def test_the_worker_records_googles_verdict(store: Store, settings: Settings) -> None:
    sealers = (
        Sealer(settings.secret_key, "destination-credentials"),
        Sealer(settings.secret_key, "outbox-client"),
    )
    await store.insert_goal(Goal(name="purchase"))
    creds = {"operating_account_id": "1234567890", "access_token": "ya29.x"}
    body = {"platform": "google_ads", "name": "Google", "goals": {"purchase": "555"},
            "credentials": creds}  # fmt: skip
    await destinations_service.create(store, sealers[0], body)
    for n in range(2):
        checked = conversions.parse(
            {
                "event_id": f"g-{n}",
                "goal": "purchase",
                "consent": ADS,
                "click_ids": {"gclid": f"Cj0{n}"},
            }
        )
        await conversions_service.record(store, ClickSigner("s"), [checked], client_data=sealers[1])
    statuses = [
        {"requestStatusPerDestination": [{"requestStatus": "PROCESSING"}]},
        FAILED,
    ]
    asked: list[httpx.Request] = []

    def google(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events:ingest"):
            assert len(json.loads(request.content)["events"]) == 2
            return httpx.Response(200, json={"requestId": "req-42"})
        asked.append(request)
        return httpx.Response(200, json=statuses.pop(0))

    client = httpx.AsyncClient(transport=httpx.MockTransport(google))
    forwarder = Forwarder(
        store, client, credentials=sealers[0], client_data=sealers[1], clock=time.time
    )
    try:
        assert await forwarder.drain() == 2
        log = await store.list_deliveries(where=DeliveryFilter())
        assert {d.request_id for d in log} == {"req-42"} and {d.diagnostics for d in log} == {None}
        assert await forwarder.poll_statuses() == 2  # PROCESSING: asked again next time
        assert asked[0].url.path == "/v1/requestStatus:retrieve"
        assert asked[0].url.params["requestId"] == "req-42"
        assert asked[0].headers["authorization"] == "Bearer ya29.x"
        assert await forwarder.poll_statuses() == 2
        log = await store.list_deliveries(where=DeliveryFilter())
        assert {d.diagnostics for d in log} == {"PARTIAL_SUCCESS: 2 records; 1 INVALID_GCLID"}
        assert await forwarder.poll_statuses() == 0 and len(asked) == 2  # final: not again
    finally:
        await client.aclose()


def test_only_data_manager_destinations_are_polled() -> None:
    def dest(platform: str, **options: Any) -> Destination:
        return Destination(platform, "d", "sealed", (), options=options)

    assert requeststatus.polls(dest("google_ads"))
    assert not requeststatus.polls(dest("google_ads", api="legacy"))
    assert not requeststatus.polls(dest("meta"))
