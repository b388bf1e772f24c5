"""The daily visitor-hash salts of one writer, asked of the store once per day each.

Which days keep their salt and when the others are forgotten is `domain.visitors`'s rule; the
store only gets, stores and deletes salts (and, with them, the per-day visitor rows).
"""

from __future__ import annotations

from firstmark.domain import visitors
from firstmark.store import Store


class DailySalts:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._salts: dict[int, bytes] = {}
        self._today = -1

    async def for_day(self, day: int) -> bytes:
        """The salt of `day`. The first call of a new day has the store forget the salts that
        are no longer kept; this cache drops them too."""
        salt = self._salts.get(day)
        if salt is None:
            salt = await self.store.salt_for_day(day)
            self._salts[day] = salt
        first_kept = visitors.forget_before(self._today, day)
        if first_kept is not None:
            self._today = day
            await self.store.forget_salts(first_kept)
            for old in visitors.forgotten(self._salts, day):
                del self._salts[old]
        return salt
