"""Benchmark of forwarding: conversions through the outbox worker to a local fake Meta
Conversions API endpoint that answers after 50 ms.

    flock /tmp/fm-bench.lock .venv/bin/python bench/forward.py [--conversions 50000]

A producer stores conversions (each with its outbox row, in the conversion's transaction) in
batches of 500 while one worker claims, sends (1,000 events a request, Meta's limit) and
records deliveries. The fake platform runs in its own process and counts the event_ids it
received. Printed: delivered per minute (first insert to last delivery), the p99 delivery lag
(outbox row created → sent), peak RSS, and RSS as the run went on (flat memory means the
worker holds one round at a time, never the backlog).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402

from firstmark.domain.consent import Consent  # noqa: E402
from firstmark.domain.conversions import Conversion  # noqa: E402
from firstmark.domain.goals import Goal  # noqa: E402
from firstmark.domain.userdata import hash_user_data  # noqa: E402
from firstmark.forward.worker import Forwarder  # noqa: E402
from firstmark.sealing import Sealer  # noqa: E402
from firstmark.services import destinations as destinations_service  # noqa: E402
from firstmark.services.conversions import outbox_for  # noqa: E402
from firstmark.store import SQLiteStore  # noqa: E402

LATENCY_S = 0.05
SECRET = "bench-secret"


def fake_meta(port: int, counter: multiprocessing.sharedctypes.Synchronized) -> None:  # type: ignore[name-defined]
    """A minimal ASGI app on uvicorn: reads the body, waits 50 ms, counts the events."""
    import uvicorn

    async def app(scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        events = len(json.loads(body)["data"])
        await asyncio.sleep(LATENCY_S)
        with counter.get_lock():
            counter.value += events
        raw = json.dumps({"events_received": events, "fbtrace_id": "bench"}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": raw})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


async def run(total: int, folder: Path, port: int) -> dict[str, object]:
    store = SQLiteStore(f"sqlite:///{folder / 'forward.db'}")
    await store.open()
    await store.migrate()
    goal = await store.insert_goal(Goal(name="purchase"))
    assert goal.id is not None
    credentials = Sealer(SECRET, "destination-credentials")
    await destinations_service.create(store, credentials, {
        "platform": "meta", "name": "meta", "endpoint_base": f"http://127.0.0.1:{port}",
        "credentials": {"pixel_id": "1", "access_token": "t"}, "goals": {"purchase": "Purchase"},
    }, allow_private=True)  # fmt: skip
    client_data = Sealer(SECRET, "outbox-client")
    consent = Consent(analytics=True, ad_user_data=True, ad_personalization=True)
    user = hash_user_data({"email": "someone@example.com", "phone": "+4791234567"})
    sealed = client_data.seal({"ip": "203.0.113.7", "ua": "Mozilla/5.0 bench"})
    samples: list[float] = []
    async with httpx.AsyncClient(timeout=10) as client:
        forwarder = Forwarder(
            store, client, credentials=credentials, client_data=client_data, batch=1000
        )
        started = time.perf_counter()
        forwarder.start(poll_s=0.02)

        async def produce() -> None:
            for start in range(0, total, 500):
                batch = [
                    Conversion(
                        event_id=f"bench-{n}", goal_id=goal.id or 0, goal="purchase",
                        ts=time.time(), consent=consent, source="server", value=10.0,
                        currency="EUR", user_data=user, click_ids={"fbclid": f"fb{n}"},
                        sealed_client=sealed,
                    )
                    for n in range(start, min(total, start + 500))
                ]  # fmt: skip
                await store.insert_conversions(batch, await outbox_for(store, batch))
                await asyncio.sleep(0)

        producer = asyncio.create_task(produce())
        while True:
            await asyncio.sleep(0.25)
            samples.append(rss_mb())
            if producer.done() and forwarder.counters.sent + forwarder.counters.dead >= total:
                break
        elapsed = time.perf_counter() - started
        await producer
        await forwarder.stop()
    lags = [
        r[0]
        for r in await store._all(
            "SELECT sent_at - created_at FROM outbox WHERE status = 'sent' ORDER BY 1"
        )
    ]
    await store.close()
    return {
        "sent": forwarder.counters.sent,
        "dead": forwarder.counters.dead,
        "requests": forwarder.counters.requests,
        "elapsed_s": elapsed,
        "per_min": forwarder.counters.sent / elapsed * 60,
        "p50_lag_s": lags[len(lags) // 2],
        "p99_lag_s": lags[int(len(lags) * 0.99) - 1],
        "rss_samples": samples,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversions", type=int, default=50_000)
    args = parser.parse_args()
    port = free_port()
    counter = multiprocessing.Value("q", 0)
    fake = multiprocessing.Process(target=fake_meta, args=(port, counter), daemon=True)
    fake.start()
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = asyncio.run(run(args.conversions, Path(tmp), port))
    finally:
        fake.terminate()
        fake.join(5)
    samples = result["rss_samples"]
    assert isinstance(samples, list)
    quarter = (
        [samples[int(len(samples) * q) - 1] for q in (0.25, 0.5, 0.75, 1.0)] if samples else []
    )
    print(f"conversions          {args.conversions}")
    print(f"delivered            {result['sent']} (dead {result['dead']}), "
          f"platform counted {counter.value}")  # fmt: skip
    print(
        f"requests             {result['requests']} "
        f"(fake platform latency {LATENCY_S * 1000:.0f} ms)"
    )
    print(f"elapsed              {result['elapsed_s']:.1f} s")
    print(f"delivered per minute {result['per_min']:,.0f}")
    print(f"delivery lag         p50 {result['p50_lag_s']:.2f} s, p99 {result['p99_lag_s']:.2f} s")
    print(f"peak RSS             {result['peak_rss_mb']:.0f} MB")
    print("RSS at 25/50/75/100% " + " / ".join(f"{m:.0f}" for m in quarter) + " MB")


if __name__ == "__main__":
    main()
