"""The daily visitor-hash salts of one writer, asked of the store once per day each.

Which days keep their salt is `domain.visitors`'s rule. The store deletes salts past their 48
hours on a timer (services/retention.py), whether or not anything is written that day; this
cache only lets go of the days no longer kept.
"""

from __future__ import annotations

from firstmark.domain import visitors
from firstmark.store import Store


class DailySalts:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._salts: dict[int, bytes] = {}
        self._today = -1

    def known(self, day: int) -> bytes | None:
        """The salt of `day` if it was read already: what a click on the fast path may use
        without waiting."""
        return self._salts.get(day)

    async def for_day(self, day: int) -> bytes:
        """The salt of `day`, asked of the store once. On a new day the cache drops the
        days whose salts are no longer kept."""
        salt = self._salts.get(day)
        if salt is None:
            salt = await self.store.salt_for_day(day)
            self._salts[day] = salt
        if visitors.forget_before(self._today, day) is not None:
            self._today = day
            for old in visitors.forgotten(self._salts, day):
                del self._salts[old]
        return salt
