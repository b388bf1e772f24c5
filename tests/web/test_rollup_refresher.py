"""`firstmark serve` refreshes the web rollups in the background: a report read once comes
back current after new visits without rebuilding anything itself."""

from __future__ import annotations

import asyncio
import dataclasses

from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.domain.visits import Visit
from serverproc import lifespan

DAY = 86_400
D0 = 20_400 * DAY  # a UTC midnight


def visit(i: int, channel: str) -> Visit:
    started = D0 + 3600 + i
    return Visit(site_id=1, key=f"k:{i}", started=started, last_ts=started + 5,
                 visitor_day_hash=f"h{i}", entry_path="/", exit_path="/", pageviews=1,
                 events=0, source="s", medium="m", channel=channel)  # fmt: skip


async def test_the_server_keeps_read_rollups_current(settings: Settings) -> None:
    quick = dataclasses.replace(
        settings, forward_enabled=False, healthcheck_interval=0, purge_enabled=False,
        rollup_refresh_s=0.05, rollup_max_lag_s=60,
    )  # fmt: skip
    app = create_app(quick)  # its own store, as `firstmark serve` runs
    async with lifespan(app):
        store = app.state.runtime.store
        assert store.rollup_lag_s == 60  # reports leave young changes to the refresher

        async def visits() -> int:
            return sum(s.visits for s in await store.web_report("channels", 1, {}, D0, D0 + DAY))

        await store.write_events([], [], [], [], [visit(i, "Direct") for i in range(3)])
        assert await visits() == 3  # read once: built by the report
        await store.write_events([], [], [], [], [visit(i, "Email") for i in range(3, 8)])
        for _ in range(100):
            if await visits() == 8:
                break
            await asyncio.sleep(0.05)
        assert await visits() == 8
