"""A writer's daily salts: asked of the store once per day; writing never deletes salts (a
timer does, services/retention.py), the cache lets go of old days."""

from __future__ import annotations

from typing import cast

from firstmark.ingest.salts import DailySalts
from firstmark.store import Store


class Salts:
    """The store's two salt methods, recording the calls."""

    def __init__(self) -> None:
        self.asked: list[int] = []
        self.forgets: list[int] = []

    async def salt_for_day(self, day: int) -> bytes:
        self.asked.append(day)
        return f"salt-{day}-{len(self.asked)}".encode()

    async def forget_salts(self, before_day: int) -> int:
        self.forgets.append(before_day)
        return 0


async def test_each_day_is_asked_once_and_writing_never_deletes_salts() -> None:
    store = Salts()
    salts = DailySalts(cast(Store, store))
    today = 20_000
    first = await salts.for_day(today)
    assert await salts.for_day(today) == first
    assert store.asked == [today]
    await salts.for_day(today - 1)  # a late hit from yesterday
    assert store.asked == [today, today - 1]
    await salts.for_day(today + 1)
    await salts.for_day(today + 2)
    assert store.forgets == []
    # Yesterday's is still cached, the ones before are not.
    await salts.for_day(today + 1)
    assert store.asked == [today, today - 1, today + 1, today + 2]
    again = await salts.for_day(today)
    assert store.asked[-1] == today and again != first
