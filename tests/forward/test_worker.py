"""The outbox worker against mock platforms: batches, the retry policy, dead letters and
replay, per-event failures, age windows, a crash mid-send, and client data erased."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from firstmark.config import Settings
from firstmark.domain import conversions
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.goals import Goal
from firstmark.forward.worker import Forwarder
from firstmark.sealing import Sealer
from firstmark.services import conversions as conversions_service
from firstmark.services import destinations as destinations_service
from firstmark.store import Store

ADS = {"ad_user_data": "granted", "ad_personalization": "granted", "analytics_storage": "granted"}
IP, UA = "198.51.100.77", "Mozilla/5.0 (firstmark-test) UniqueAgent/9.9"
TOKEN = "EAAB-secret-token-123"

Handler = Callable[[httpx.Request], httpx.Response]


class Platform:
    """A scripted mock platform: answers in turn (the last one repeats); requests kept."""

    def __init__(self, *answers: Handler | httpx.Response) -> None:
        self.answers = list(answers) or [httpx.Response(200, json={"events_received": 1})]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request) if callable(answer) else answer

    def event_ids(self) -> list[str]:
        ids = []
        for request in self.requests:
            data = json.loads(request.content)
            events = data["data"] if isinstance(data.get("data"), list) else data["data"]["events"]
            ids += [e.get("event_id") or e["metadata"]["conversion_id"] for e in events]
        return ids


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def goal(store: Store) -> Goal:
    return await store.insert_goal(Goal(name="purchase"))


@pytest.fixture
def sealers(settings: Settings) -> tuple[Sealer, Sealer]:
    return (
        Sealer(settings.secret_key, "destination-credentials"),
        Sealer(settings.secret_key, "outbox-client"),
    )


async def add_destination(
    store: Store, sealers: tuple[Sealer, Sealer], platform: str = "meta", **extra: Any
) -> int:
    creds = {
        "meta": {"pixel_id": "123", "access_token": TOKEN},
        "pinterest": {"ad_account_id": "549", "access_token": TOKEN},
    }[platform]
    body = {"platform": platform, "name": f"{platform}-{len(await store.list_destinations())}",
            "credentials": creds, "goals": {"purchase": "Purchase"}, **extra}  # fmt: skip
    saved = await destinations_service.create(store, sealers[0], body)
    assert saved.id is not None
    return saved.id


async def convert(
    store: Store, sealers: tuple[Sealer, Sealer], event_id: str, ts: float | None = None,
    consent: dict[str, str] | None = None, **extra: Any,
) -> None:  # fmt: skip
    body = {"event_id": event_id, "goal": "purchase", "consent": consent or ADS,
            "client_ip": IP, "user_agent": UA, "value": 10, "currency": "EUR", **extra}  # fmt: skip
    if ts is not None:
        body["ts"] = ts
    checked = conversions.parse(body)
    await conversions_service.record(store, ClickSigner("s"), [checked], client_data=sealers[1])


@pytest.fixture
async def make_forwarder(
    store: Store, sealers: tuple[Sealer, Sealer]
) -> AsyncIterator[Callable[..., Forwarder]]:
    clients: list[httpx.AsyncClient] = []

    def make(platform: Platform, clock: Clock | None = None, **kw: Any) -> Forwarder:
        client = httpx.AsyncClient(transport=httpx.MockTransport(platform))
        clients.append(client)
        return Forwarder(
            store, client, credentials=sealers[0], client_data=sealers[1],
            clock=clock or time.time, **kw,
        )  # fmt: skip

    yield make
    for client in clients:
        await client.aclose()


async def row(store: Store, event_id: str) -> dict[str, Any]:
    found = await store._all(  # type: ignore[attr-defined]
        "SELECT o.status, o.attempts, o.next_attempt_at, o.last_status, o.last_error, "
        "o.sealed_client FROM outbox o JOIN conversions c ON c.id = o.conversion_id "
        "WHERE c.event_id = ?",
        (event_id,),
    )
    names = ("status", "attempts", "next_attempt_at", "last_status", "last_error", "sealed")
    return dict(zip(names, found[0], strict=True))


async def test_a_batch_goes_in_one_request_and_every_event_is_logged(
    store: Store, sealers: Any, goal: Goal, make_forwarder: Any
) -> None:
    dest_id = await add_destination(store, sealers)
    for n in range(3):
        await convert(store, sealers, f"e-{n}")
    platform = Platform()
    forwarder = make_forwarder(platform)
    assert await forwarder.drain() == 3
    assert len(platform.requests) == 1 and sorted(platform.event_ids()) == ["e-0", "e-1", "e-2"]
    sent = json.loads(platform.requests[0].content)["data"][0]["user_data"]
    assert sent["client_ip_address"] == IP and sent["client_user_agent"] == UA
    assert (await store.outbox_counts(dest_id))["sent"] == 3
    log = await store.list_deliveries(dest_id)
    assert {(d.status, d.http_status) for d in log} == {("sent", 200)}
    assert all(d.latency_ms is not None and d.latency_ms >= 0 for d in log)
    assert forwarder.counters.sent == 3 and forwarder.counters.requests == 1


async def test_batches_stay_within_the_platform_limit(
    store: Store, sealers: Any, goal: Goal, make_forwarder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from firstmark.forward.adapters import meta

    monkeypatch.setattr(meta, "MAX_BATCH", 2)
    await add_destination(store, sealers)
    for n in range(5):
        await convert(store, sealers, f"e-{n}")
    platform = Platform()
    await make_forwarder(platform).drain()
    sizes = sorted(len(json.loads(r.content)["data"]) for r in platform.requests)
    assert sizes == [1, 2, 2] and sorted(platform.event_ids()) == [f"e-{n}" for n in range(5)]


async def test_no_request_starts_that_could_outlive_the_lease(
    store: Store, sealers: Any, goal: Goal, make_forwarder: Any
) -> None:
    await add_destination(store, sealers)
    await convert(store, sealers, "e-1")
    clock = Clock()
    platform = Platform()
    short = make_forwarder(platform, clock, lease_s=5, request_timeout_s=10)
    assert await short.run_once() == 1
    assert platform.requests == []
    found = await row(store, "e-1")
    assert found["status"] == "retry" and "lease ran short" in found["last_error"]
    assert found["next_attempt_at"] <= clock.now and found["sealed"] is not None
    await make_forwarder(platform, clock).drain()
    assert platform.event_ids() == ["e-1"]


@pytest.mark.parametrize(
    ("answer", "low", "high"),
    [
        (httpx.Response(429, headers={"retry-after": "30"}), 30, 30),
        (httpx.Response(503, json={"error": {"message": "down"}}), 8, 12),  # 10 s ± 20 %
        (httpx.Response(408), 8, 12),
        (httpx.Response(423), 8, 12),
    ],
)
async def test_transient_answers_are_retried_later(
    store: Store, sealers: Any, goal: Goal, make_forwarder: Any,
    answer: httpx.Response, low: float, high: float,
) -> None:  # fmt: skip
    await add_destination(store, sealers)
    await convert(store, sealers, "e-1")
    clock = Clock()
    platform = Platform(answer, httpx.Response(200, json={"events_received": 1}))
    forwarder = make_forwarder(platform, clock)
    await forwarder.drain()
    found = await row(store, "e-1")
    assert found["status"] == "retry" and found["last_status"] == answer.status_code
    assert low - 0.01 <= found["next_attempt_at"] - clock.now <= high + 0.01
    assert found["sealed"] is not None  # kept for the next attempt
    assert await forwarder.drain() == 0  # not due yet
    clock.now += high + 1
    assert await forwarder.drain() == 1
    found = await row(store, "e-1")
    assert found["status"] == "sent" and found["attempts"] == 2 and found["sealed"] is None
    assert platform.event_ids() == ["e-1", "e-1"]


@pytest.mark.parametrize("error", [httpx.ConnectTimeout("slow"), httpx.ConnectError("reset")])
async def test_transport_errors_and_timeouts_are_retried(
    store: Store, sealers: Any, goal: Goal, make_forwarder: Any, error: Exception
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    await add_destination(store, sealers)
    await convert(store, sealers, "e-1")
    await make_forwarder(Platform(fail)).drain()
    found = await row(store, "e-1")
    assert found["status"] == "retry" and found["last_status"] is None
    assert found["last_error"] in ("timed out", "transport error: ConnectError")


async def test_a_permanent_error_is_dead_with_the_platforms_message_until_replayed(
    store: Store, sealers: Any, goal: Goal, make_forwarder: Any
) -> None:
    dest_id = await add_destination(store, sealers)
    await convert(store, sealers, "e-1")
    refused = httpx.Response(
        400, json={"error": {"message": f"Invalid OAuth access token {TOKEN}.", "code": 190}}
    )
    platform = Platform(refused, httpx.Response(200, json={"events_received": 1}))
    forwarder = make_forwarder(platform)
    await forwarder.drain()
    found = await row(store, "e-1")
    assert found["status"] == "dead" and found["sealed"] is None
    assert "Invalid OAuth access token" in found["last_error"]
    assert TOKEN not in found["last_error"] and "[redacted]" in found["last_error"]
    assert await forwarder.drain() == 0  # dead stays dead
    assert await store.replay_outbox(dest_id) == 1
    await forwarder.drain()
    assert (await row(store, "e-1"))["status"] == "sent"
    log = await store.list_deliveries(dest_id)
    assert [d.status for d in log] == ["sent", "dead"]
    assert all(TOKEN not in (d.error or "") for d in log)


async def test_a_row_is_dead_after_the_last_attempt(
    store: Store, sealers: Any, goal: Goal, make_forwarder: Any
) -> None:
    dest_id = await add_destination(store, sealers)
    await convert(store, sealers, "e-1")
    clock = Clock()
    forwarder = make_forwarder(Platform(httpx.Response(500)), clock, max_attempts=3)
    for _ in range(3):
        await forwarder.drain()
        clock.now += 7 * 3600
    found = await row(store, "e-1")
    assert found["status"] == "dead" and found["attempts"] == 3
    log = await store.list_deliveries(dest_id)
    assert [(d.attempt, d.status) for d in log] == [(3, "dead"), (2, "retry"), (1, "retry")]
    assert found["last_error"].startswith("gave up after 3 attempts: HTTP 500")


async def test_a_failed_event_inside_a_batch_fails_only_itself(
    store: Store, sealers: Any, goal: Goal, make_forwarder: Any
) -> None:
    await add_destination(store, sealers, "pinterest")
    for n in range(3):
        await convert(store, sealers, f"e-{n}")

    def per_event(request: httpx.Request) -> httpx.Response:
        events = json.loads(request.content)["data"]
        return httpx.Response(200, json={"events": [
            {"status": "failed", "error_message": "event_time is in the future"}
            if e["event_id"] == "e-1" else {"status": "processed"} for e in events
        ]})  # fmt: skip

    await make_forwarder(Platform(per_event)).drain()
    states = {e: (await row(store, e))["status"] for e in ("e-0", "e-1", "e-2")}
    assert states == {"e-0": "sent", "e-1": "dead", "e-2": "sent"}
    assert (await row(store, "e-1"))["last_error"] == "event_time is in the future"


async def test_events_outside_the_age_window_die_before_sending(
    store: Store, sealers: Any, goal: Goal, make_forwarder: Any
) -> None:
    await add_destination(store, sealers)
    await convert(store, sealers, "old", ts=time.time() - 8 * 86400)  # Meta: 7 days
    await convert(store, sealers, "new")
    platform = Platform()
    await make_forwarder(platform).drain()
    assert platform.event_ids() == ["new"]
    old = await row(store, "old")
    assert old["status"] == "dead" and "7 days" in old["last_error"] and old["sealed"] is None


async def test_a_worker_that_dies_mid_send_leaves_the_row_to_be_sent_once_more(
    store: Store, sealers: Any, goal: Goal, make_forwarder: Any
) -> None:
    await add_destination(store, sealers)
    await convert(store, sealers, "e-1")
    clock = Clock()
    hanging = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        hanging.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    stuck = httpx.AsyncClient(transport=httpx.MockTransport(hang))
    dying = Forwarder(store, stuck, credentials=sealers[0], client_data=sealers[1],
                      lease_s=30, clock=clock)  # fmt: skip
    task = asyncio.create_task(dying.run_once())
    await hanging.wait()
    task.cancel()  # the process is killed mid-request
    with pytest.raises(asyncio.CancelledError):
        await task
    await stuck.aclose()
    assert (await row(store, "e-1"))["status"] == "sending"
    platform = Platform()
    survivor = make_forwarder(platform, clock, lease_s=30)
    assert await survivor.drain() == 0  # the lease still holds
    clock.now += 31
    assert await survivor.drain() == 1
    clock.now += 3600
    assert await survivor.drain() == 0
    assert platform.event_ids() == ["e-1"]  # resent exactly once
    found = await row(store, "e-1")
    assert found["status"] == "sent" and found["attempts"] == 2


@pytest.mark.parametrize("outcome", ["sent", "dead"])
async def test_client_ip_and_user_agent_exist_only_sealed_and_only_until_done(
    store: Store, sealers: Any, goal: Goal, make_forwarder: Any, settings: Settings, outcome: str
) -> None:
    await add_destination(store, sealers)
    await convert(store, sealers, "e-1")
    db = Path(settings.database_url.removeprefix("sqlite:///"))

    def scan() -> bytes:
        return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))

    assert IP.encode() not in scan() and b"UniqueAgent" not in scan()
    assert (await row(store, "e-1"))["sealed"] is not None
    answer = httpx.Response(200 if outcome == "sent" else 400, json={"error": {"message": "no"}})
    platform = Platform(answer)
    await make_forwarder(platform).drain()
    assert IP in platform.requests[0].content.decode()  # the platform got them, in clear
    found = await row(store, "e-1")
    assert found["status"] == outcome and found["sealed"] is None
    assert IP.encode() not in scan() and b"UniqueAgent" not in scan()


async def test_a_destination_with_unreadable_credentials_waits(
    store: Store, sealers: Any, goal: Goal, make_forwarder: Any
) -> None:
    await add_destination(store, sealers)
    await convert(store, sealers, "e-1")
    platform = Platform()
    other = Sealer("another-secret", "destination-credentials")
    client = httpx.AsyncClient(transport=httpx.MockTransport(platform))
    forwarder = Forwarder(store, client, credentials=other, client_data=sealers[1])
    await forwarder.drain()
    await client.aclose()
    found = await row(store, "e-1")
    assert found["status"] == "retry" and "FIRSTMARK_SECRET_KEY" in found["last_error"]
    assert platform.requests == []
