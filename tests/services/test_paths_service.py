"""The data-driven model and its paths are kept until new data: a report seen again does not
count the paths again, a new touch or conversion does; channel rules apply on every read."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from firstmark.domain import stats
from firstmark.domain.channels import Rule
from firstmark.domain.events import Touch
from firstmark.services import paths
from firstmark.services.reports import Window
from firstmark.store import Store
from pathdemo import seed_demo


def _window() -> Window:
    end = datetime.fromtimestamp((time.time() // 86_400 + 1) * 86_400, UTC)
    start = datetime.fromtimestamp(end.timestamp() - 30 * 86_400, UTC)
    return Window(stats.Range(start, end, "day"))


async def test_the_counted_paths_are_kept_until_new_data(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_demo(store)
    counted: list[Any] = []
    original = store.touch_paths

    async def counting(*args: Any, **kwargs: Any) -> Any:
        counted.append(args)
        return await original(*args, **kwargs)

    monkeypatch.setattr(store, "touch_paths", counting)
    window = _window()
    first = await paths.model(store, ("source", "medium"), window, "EUR")
    again = await paths.model(store, ("source", "medium"), window, "EUR")
    assert again is first and len(counted) == 1
    await store.write_events([], [Touch(time.time() - 60, visitor_id="late", utm_source="x")], [])
    after = await paths.model(store, ("source", "medium"), window, "EUR")
    assert len(counted) == 2 and after.journeys == first.journeys + 1


async def test_channel_rules_apply_to_kept_paths(store: Store) -> None:
    await seed_demo(store)
    window = _window()
    before = await paths.paths(store, ("channel",), window, "EUR")
    assert ("Email",) in {s for p in before.converting for s in p.steps}
    await store.insert_channel_rule(Rule("channel", "source", "equals", "newsletter", "Referral"))
    after = await paths.paths(store, ("channel",), window, "EUR")
    assert ("Referral",) in {s for p in after.converting for s in p.steps}
