"""Store contract for the forwarding audit, on both engines: each delivery log line keeps the
API version, consent, identifier names and request id; the log filters; quality and health
counts; the queue and dead rows listed; diagnostics recorded by request id."""

from __future__ import annotations

import time

from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import (
    Attempt,
    Audit,
    DeliveryFilter,
    Destination,
    outbox_targets,
)
from firstmark.domain.goals import Goal
from firstmark.store.protocol import Store

ADS = Consent(analytics=True, ad_user_data=True)


async def setup(store: Store, n: int) -> tuple[int, list[int]]:
    dest = await store.insert_destination(
        Destination(
            platform="meta", name="meta", credentials_sealed="sealed",
            credential_fields=("access_token",), goals={"purchase": "Purchase"},
        )
    )  # fmt: skip
    assert dest.id is not None
    goal = await store.insert_goal(Goal(name="purchase"))
    assert goal.id is not None
    for i in range(n):
        conv = Conversion(
            event_id=f"e-{i}", goal_id=goal.id, goal="purchase", ts=time.time(), consent=ADS,
            source="server",
        )  # fmt: skip
        await store.insert_conversions([conv], [outbox_targets(conv, [dest])])
    items = await store.claim_outbox("w", 10, 30)
    return dest.id, [i.id for i in items]


async def test_the_log_keeps_the_audit_and_filters(any_store: Store) -> None:
    dest_id, ids = await setup(any_store, 3)
    audit = Audit("meta v25.0", "analytics,ad_user_data", ("em", "fbclid"), "TRACE-1")
    attempts = [
        Attempt(ids[0], "sent", None, 200, None, 5.0, audit),
        Attempt(ids[1], "dead", None, 400, "HTTP 400: bad", 5.0, audit),
        Attempt(ids[2], "retry", time.time() + 600, 503, "HTTP 503", 5.0),
    ]
    assert await any_store.finish_outbox("w", attempts) == 3
    log = await any_store.list_deliveries(where=DeliveryFilter())
    sent = next(d for d in log if d.status == "sent")
    assert sent.api_version == "meta v25.0" and sent.consent == "analytics,ad_user_data"
    assert sent.identifiers == ("em", "fbclid") and sent.request_id == "TRACE-1"
    bare = next(d for d in log if d.status == "retry")
    assert bare.identifiers == () and bare.request_id is None
    dead = await any_store.list_deliveries(where=DeliveryFilter(status="dead"))
    assert [d.event_id for d in dead] == ["e-1"]
    by_event = await any_store.list_deliveries(where=DeliveryFilter(event_id="e-2"))
    assert [d.status for d in by_event] == ["retry"]
    future = await any_store.list_deliveries(where=DeliveryFilter(since=time.time() + 60))
    assert future == []
    elsewhere = await any_store.list_deliveries(where=DeliveryFilter(destination_id=dest_id + 9))
    assert elsewhere == []
    # Quality and health counts.
    rows = await any_store.delivery_quality(dest_id, time.time() - 3600, time.time() + 60)
    assert sum(r[3] for r in rows) == 3
    assert {(r[1], r[2]) for r in rows} == {
        ("sent", ",em,fbclid,"), ("dead", ",em,fbclid,"), ("retry", ""),
    }  # fmt: skip
    health = await any_store.delivery_health(time.time() - 3600)
    assert {(r[0], r[1], r[2]) for r in health} == {
        (dest_id, "sent", 1), (dest_id, "dead", 1), (dest_id, "retry", 1),
    }  # fmt: skip
    # The queue and dead rows.
    dead_rows = await any_store.list_outbox("dead")
    assert [(r.event_id, r.last_status, r.last_error) for r in dead_rows] == [
        ("e-1", 400, "HTTP 400: bad")
    ]
    assert [r.event_id for r in await any_store.list_outbox("retry", dest_id)] == ["e-2"]
    # Diagnostics reported later, by the platform's request id.
    assert await any_store.unresolved_requests(dest_id, time.time() - 3600) == ["TRACE-1"]
    assert await any_store.record_diagnostics("TRACE-1", "SUCCESS: 1 record") == 2
    assert await any_store.unresolved_requests(dest_id, time.time() - 3600) == []
    again = await any_store.list_deliveries(where=DeliveryFilter(status="sent"))
    assert again[0].diagnostics == "SUCCESS: 1 record"
