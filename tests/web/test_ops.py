"""/metrics (optional bearer token, the loop-lag gauge) and /readyz (never names the
database)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import httpx

from firstmark.errors import StoreUnavailable
from firstmark.web.looplag import LoopLag


async def test_metrics_token_is_required_when_set(app: Any, anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/metrics")).status_code == 200  # open by default
    rt = app.state.runtime
    settings = dataclasses.replace(rt.settings, metrics_token="s3cret-metrics")
    app.state.runtime = dataclasses.replace(rt, settings=settings)
    assert (await anon.get("/metrics")).status_code == 401
    wrong = await anon.get("/metrics", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    right = await anon.get("/metrics", headers={"authorization": "Bearer s3cret-metrics"})
    assert right.status_code == 200
    assert 'firstmark_event_loop_lag_seconds{quantile="0.99"}' in right.text
    assert "firstmark_cpu_jobs_refused_total 0" in right.text


async def test_loop_lag_sees_a_blocked_loop() -> None:
    lag = LoopLag()
    lag.start()
    try:
        await asyncio.sleep(0.12)
        time.sleep(0.3)  # what a scrypt or a QR render on the loop used to do
        await asyncio.sleep(0.12)
    finally:
        await lag.stop()
    assert 0.2 < lag.max() < 1.0
    assert lag.p99() == lag.max()  # few samples: the worst one is the 99th percentile


async def test_readyz_never_names_the_database(app: Any, anon: httpx.AsyncClient) -> None:
    rt = app.state.runtime

    class Down:
        def __getattr__(self, name: str) -> Any:
            async def fail(*args: Any) -> None:
                raise StoreUnavailable(
                    "cannot use the database postgresql://fmuser@db.internal:5432/fm: refused"
                )

            return fail

    app.state.runtime = dataclasses.replace(rt, store=Down())
    r = await anon.get("/readyz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "store": "cannot use the database"}
    assert "db.internal" not in r.text and "fmuser" not in r.text
