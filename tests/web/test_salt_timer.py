"""The running server deletes salts past their 48 hours on its own timer: no hit needs to
arrive for yesterday's visitors to become unlinkable."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any, cast

from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.store import Store
from serverproc import lifespan

DAY = 86_400


async def salt_days(store: Store) -> list[int]:
    return [r[0] for r in await cast(Any, store).db.fetch("SELECT day FROM salts ORDER BY day")]


async def test_old_salts_go_at_start_without_any_write(settings: Settings, store: Store) -> None:
    today = int(time.time() // DAY)
    for day in (today - 3, today - 2, today - 1):
        await store.salt_for_day(day)
    quiet = dataclasses.replace(settings, forward_enabled=False, healthcheck_interval=0)
    app = create_app(quiet, store)
    async with lifespan(app):
        for _ in range(100):
            if await salt_days(store) == [today - 1]:
                break
            await asyncio.sleep(0.05)
        assert await salt_days(store) == [today - 1]  # yesterday's stays for late hits
