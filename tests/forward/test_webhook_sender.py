"""Webhooks delivered to a receiver on loopback that verifies every request with the Standard
Webhooks reference package: each event arrives once through 500s, a hang past the timeout and
a dropped connection, retries keep their webhook-id, refusals die with the receiver's words
and come back on replay, and a rotated secret overlaps with the old one."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from firstmark.forward.webhooks import WebhookSender
from firstmark.sealing import Sealer
from firstmark.services import outbound
from firstmark.services import webhooks as service
from firstmark.store import Store
from serverproc import FakeServer, JSONHandler

SEALER = Sealer("test-secret", "webhook-secrets")


class Receiver(FakeServer):
    """Scripted answers for the first requests (`500`, `hang`, `drop`, `410`), then 204.
    Records every request's webhook-id and, for verified ones, the parsed body."""

    def __init__(self) -> None:
        self.script: deque[str] = deque()
        self.secrets: list[str] = []
        self.seen: list[str] = []  # webhook-id of every request, in order
        self.accepted: dict[str, Any] = {}  # verified and answered 2xx, by webhook-id
        self.unverified = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(JSONHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["content-length"]))
                headers = {k: v for k, v in self.headers.items()}
                payload = None
                for secret in receiver.secrets:
                    try:
                        payload = Webhook(secret).verify(raw, headers)
                        break
                    except WebhookVerificationError:
                        continue
                with receiver.lock:
                    receiver.seen.append(self.headers["webhook-id"])
                    step = receiver.script.popleft() if receiver.script else "ok"
                    if payload is None:
                        receiver.unverified += 1
                        step = "401"
                if step == "hang":
                    time.sleep(1.0)  # past the sender's timeout
                    return
                if step == "drop":
                    self.close_connection = True
                    return
                status = {"500": 500, "410": 410, "401": 401}.get(step, 204)
                if status == 204:
                    with receiver.lock:
                        receiver.accepted.setdefault(self.headers["webhook-id"], payload)
                body = b"gone for good" if status == 410 else b""
                self.send_response(status)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)
        self.url += "/hooks"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def sender(store: Store) -> WebhookSender:
    client = outbound.guarded_client(0.3, allow_private=True)
    return WebhookSender(store, client, SEALER, request_timeout_s=0.3, backoff_s=0.05, lease_s=5.0)


async def deliver_all(store: Store, worker: WebhookSender, endpoint_id: int) -> dict[str, int]:
    """Rounds until nothing is pending or retrying (retries are due after a short backoff)."""
    for _ in range(100):
        await worker.run_once()
        counts = await store.webhook_counts(endpoint_id)
        if not counts.get("pending") and not counts.get("retry") and not counts.get("sending"):
            return counts
        await asyncio.sleep(0.05)
    raise AssertionError(f"not delivered: {counts}")


async def test_each_event_arrives_once_through_500s_and_timeouts(
    any_store: Store, receiver: Receiver
) -> None:
    ep, secret = await service.create(
        any_store, SEALER, {"url": receiver.url, "events": ["link.created", "conversion.created"]},
        allow_private=True,
    )  # fmt: skip
    assert secret.startswith("whsec_")
    assert ep.id is not None
    receiver.secrets = [secret]
    receiver.script.extend(["500", "hang", "drop"])
    for i in range(3):
        await service.emit(any_store, "link.created", {"link": {"id": i, "code": f"c{i}"}})
    await service.emit(any_store, "call.completed", {"call": {"id": 1}})  # not subscribed
    worker = sender(any_store)
    try:
        counts = await deliver_all(any_store, worker, ep.id)
    finally:
        await worker.client.aclose()
    assert counts == {"sent": 3}
    assert receiver.unverified == 0
    # Each event once, with the body as queued; the failed ones were retried by the same id.
    codes = sorted(p["data"]["link"]["code"] for p in receiver.accepted.values())
    assert codes == ["c0", "c1", "c2"]
    assert all(p["type"] == "link.created" for p in receiver.accepted.values())
    assert len(receiver.seen) == 6 and set(receiver.seen) == set(receiver.accepted)
    log = await any_store.list_webhook_deliveries(ep.id)
    assert sorted(d.status for d in log) == ["retry"] * 3 + ["sent"] * 3
    retried = [d for d in log if d.status == "retry"]
    assert {d.msg_id for d in retried} <= set(receiver.accepted)
    assert any(d.http_status == 500 for d in retried)
    assert any(d.error == "timed out" for d in retried)


async def test_a_refusal_dies_with_the_receivers_words_and_replays(
    any_store: Store, receiver: Receiver
) -> None:
    ep, secret = await service.create(
        any_store, SEALER, {"url": receiver.url, "events": ["link.archived"]}, allow_private=True
    )
    assert ep.id is not None
    receiver.secrets = [secret]
    receiver.script.append("410")
    await service.emit(any_store, "link.archived", {"link": {"id": 7, "code": "gone"}})
    worker = sender(any_store)
    try:
        assert await deliver_all(any_store, worker, ep.id) == {"dead": 1}
        (dead,) = await any_store.list_webhook_deliveries(ep.id)
        assert dead.http_status == 410 and dead.error == "HTTP 410: gone for good"
        assert await any_store.replay_webhooks(ep.id) == 1
        assert await deliver_all(any_store, worker, ep.id) == {"sent": 1}
    finally:
        await worker.client.aclose()
    assert list(receiver.accepted) == [dead.msg_id]  # the replay kept the webhook-id


async def test_a_rotated_secret_overlaps_with_the_old_one(
    any_store: Store, receiver: Receiver
) -> None:
    ep, old = await service.create(
        any_store, SEALER, {"url": receiver.url, "events": ["link.updated"]}, allow_private=True
    )
    rotated, new = await service.rotate(any_store, SEALER, ep)
    assert new != old and new.startswith("whsec_")
    assert rotated.previous_until is not None
    worker = sender(any_store)
    try:
        for label, secrets in (("old", [old]), ("new", [new])):
            receiver.secrets = secrets
            await service.emit(any_store, "link.updated", {"link": {"code": label}})
            assert rotated.id is not None
            await deliver_all(any_store, worker, rotated.id)
        assert receiver.unverified == 0
        # Once the overlap is over, only the new secret signs.
        over, _ = await service.rotate(any_store, SEALER, rotated, overlap_s=0)
        receiver.secrets = [new]
        await service.emit(any_store, "link.updated", {"link": {"code": "late"}})
        assert over.id is not None
        await deliver_all(any_store, worker, over.id)
    finally:
        await worker.client.aclose()
    assert receiver.unverified == 1  # the new secret of the second rotation was not given
    labels = sorted(p["data"]["link"]["code"] for p in receiver.accepted.values())
    assert labels == ["new", "old"]


async def test_loopback_endpoints_are_refused_unless_allowed(store: Store) -> None:
    from firstmark.errors import InvalidField

    with pytest.raises(InvalidField) as refused:
        await service.create(
            store, SEALER, {"url": "http://127.0.0.1:9/hooks", "events": ["lead.created"]}
        )
    assert refused.value.field == "url"
    assert await store.list_webhooks() == []
    # A name that resolves to loopback is refused at delivery too (the address is pinned).
    ep, _ = await service.create(
        store, SEALER, {"url": "http://127.0.0.1:9/hooks", "events": ["lead.created"]},
        allow_private=True,
    )  # fmt: skip
    assert ep.id is not None
    await service.emit(store, "lead.created", {"lead": {"id": 1}})
    client = outbound.guarded_client(0.3, allow_private=False)
    worker = WebhookSender(store, client, SEALER, max_attempts=1)
    try:
        await worker.run_once()
    finally:
        await client.aclose()
    (attempt,) = await store.list_webhook_deliveries(ep.id)
    assert attempt.status == "dead" and attempt.error is not None
    assert "refused" in attempt.error


def test_payloads_are_compact_json_with_type_and_time() -> None:
    from firstmark.domain import webhooks

    body = webhooks.envelope("lead.created", {"lead": {"id": 3}}, 1_700_000_000)
    assert json.loads(body) == {
        "data": {"lead": {"id": 3}},
        "timestamp": "2023-11-14T22:13:20Z",
        "type": "lead.created",
    }
    secret = webhooks.new_secret()
    headers = webhooks.headers("msg_1", body, [secret], time.time())
    assert Webhook(secret).verify(body, headers) == json.loads(body)
