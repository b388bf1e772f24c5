"""`firstmark serve` checks for alerts in the background: a broken link shows as an alert
without anyone asking, once, however many checks run."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.domain.linkcheck import Health
from firstmark.domain.links import Link
from serverproc import lifespan


async def test_the_server_raises_a_standing_alert_once(settings: Settings) -> None:
    quick = dataclasses.replace(
        settings, forward_enabled=False, healthcheck_interval=0, purge_enabled=False,
        rollup_refresh_s=0, alert_interval_s=0.05,
    )  # fmt: skip
    app = create_app(quick)  # its own store, as `firstmark serve` runs
    async with lifespan(app):
        store = app.state.runtime.store
        saved = await store.insert_link(Link(destination="https://shop.example/", code="spring"))
        assert saved.id is not None
        checked = datetime.now(UTC).replace(microsecond=0)
        await store.record_health(
            [Health(saved.id, "https://shop.example/", checked, False, 500, "HTTP 500")]
        )
        for _ in range(100):
            if await store.list_alerts():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # several more checks
        found = await store.list_alerts()
    assert [(a.kind, a.subject) for a in found] == [("link.failing", f"link:{saved.id}")]
