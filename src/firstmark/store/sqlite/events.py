"""SQLite: a failed batch of events names the database file (the rest of sites, goals, events
and conversions is sql/events.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import OutboxTarget
from firstmark.domain.events import Event, Touch
from firstmark.domain.visits import Visit
from firstmark.errors import StoreUnavailable
from firstmark.store.sql.events import EventSQL
from firstmark.store.sql.executor import Violation
from firstmark.store.sqlite.openvisits import OpenVisits


class SQLiteEvents(EventSQL):
    path: str
    _open_visits: OpenVisits

    async def write_events(
        self,
        events: Sequence[Event],
        touches: Sequence[Touch],
        conversions: Sequence[Conversion],
        outbox: Sequence[Sequence[OutboxTarget]] = (),
        visits: Sequence[Visit] = (),
    ) -> int:
        try:
            stored = await super().write_events(events, touches, conversions, outbox, visits)
        except BaseException as exc:
            # Whether it committed is not known: the open visits are read again from the rows.
            self._open_visits.forget()
            if isinstance(exc, (sqlite3.Error, Violation)):  # a Violation is an IntegrityError
                raise StoreUnavailable(f"cannot write events to {self.path}: {exc}") from None
            raise
        self._open_visits.written(visits)
        return stored
