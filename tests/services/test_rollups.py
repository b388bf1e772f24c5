"""The rollup refresher: reports a site has read come back current without rebuilding, one
node refreshes at a time, and a round never stops the loop."""

from __future__ import annotations

import asyncio
import random
from dataclasses import astuple
from typing import Any, cast

from firstmark.domain.visits import Visit
from firstmark.services import rollups
from firstmark.store import Store, create_store
from firstmark.store.rows.web import report_query, sums_from_rows

DAY = 86_400
D0 = 20_400 * DAY  # a UTC midnight
CHANNELS = ["Direct", "Email", "Organic Search"]


def make_visits(rng: random.Random, count: int, days: int, first: int = 0) -> list[Visit]:
    """Visits of a dozen visitors (some consented) over `days` days."""
    out = []
    for i in range(first, first + count):
        day, person = rng.randrange(days), rng.randrange(12)
        started = D0 + day * DAY + rng.random() * DAY
        consented = rng.random() < 0.5
        out.append(
            Visit(site_id=1, key=f"k:{i}", started=started, last_ts=started + 30,
                  visitor_day_hash=f"{person}-{day}",
                  visitor_id=f"vid-{person}" if consented else None, entry_path="/",
                  exit_path="/", pageviews=1, events=0, source="x", medium="y",
                  channel=rng.choice(CHANNELS),
                  is_bot=rng.random() < 0.1)
        )  # fmt: skip
    return out


async def channels(store: Store) -> tuple[list[Any], list[Any]]:
    """The channels report from the rollups, and as the visits give it."""
    start, end = float(D0), float(D0 + 5 * DAY)
    got = await store.web_report("channels", 1, {}, start, end)
    want = sums_from_rows(
        await cast(Any, store).db.fetch(*report_query("channels", 1, {}, start, end))
    )
    return sorted(map(astuple, got)), sorted(map(astuple, want))


async def test_read_reports_are_kept_current_in_the_background(any_store: Store) -> None:
    rng = random.Random(1)
    first = make_visits(rng, 100, 3)
    await any_store.write_events([], [], [], [], first)
    got, want = await channels(any_store)  # read once: the refresher keeps it from now on
    assert got == want
    any_store.rollup_lag_s = 60.0  # as the refresher sets it: reports leave young marks be
    more = make_visits(rng, 100, 4, first=500)
    await any_store.write_events([], [], [], [], more)
    got, want = await channels(any_store)
    assert got != want
    task = asyncio.create_task(rollups.run_forever(any_store, 0.05, 60.0))
    try:
        for _ in range(100):
            got, want = await channels(any_store)
            if got == want:
                break
            await asyncio.sleep(0.05)
        assert got == want
        assert sum(row[2] for row in got) == sum(not v.is_bot for v in [*first, *more])
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_one_node_refreshes_at_a_time(any_store: Store) -> None:
    if cast(Any, any_store).engine == "postgres":
        other = create_store(cast(Any, any_store).url)
        await other.open()
        try:
            async with other.rollup_lock() as theirs:
                assert theirs
                assert await rollups.refresh(any_store) is None
        finally:
            await other.close()
    assert await rollups.refresh(any_store) == 0
