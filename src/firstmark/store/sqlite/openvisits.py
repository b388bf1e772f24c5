"""SQLite: which visits are open, told from memory by the one process writing events (ADR 0039).

The event writer asks the store for the open visit of each key it does not hold itself: under
real traffic that is nearly every event, a new visitor, whose answer is "none". Looked up by
key, each answer cost a read of a random index page, and the index kept for it cost a random
page written per new visit. Here the process that holds the database (an advisory lock on a
file beside it, freed by the kernel when the process dies) knows the start of every visit
with an event in the last half hour or so, by site and key: a new visitor costs a dictionary
lookup, a known one an exact read by (site, start, key), the visits' unique key.

Memory is rebuilt from the rows (the visits of the last half hour or more) when the lock is
taken, after a failed batch, and when asked about events older than it covers. Visits written
by another process (the CLI, a server stopping while the next one starts) are caught before
each lookup: SQLite's data_version tells that another connection committed, and the visits
added since the last id this process saw are read back. Without the lock, or while another
process writes, the visits are looked up in the table by the caller, as on PostgreSQL.
"""

from __future__ import annotations

import fcntl
import math
import os
from collections.abc import Iterable, Sequence

from firstmark.domain.visits import TIMEOUT_S, Visit

GENERATION_S = 300.0  # starts are kept in generations of this much event time
MAX_KEYS = 4_000_000  # starts held at most (about 100 bytes each); older ones go sooner

Key = tuple[int, str]


class _Generation:
    """The starts of the visits written while it was the newest, by (site, key)."""

    __slots__ = ("newest", "opened", "starts")

    def __init__(self, opened: float) -> None:
        self.opened = opened  # the first visit's last event
        self.newest = opened  # the latest last event of its visits
        self.starts: dict[Key, float] = {}


class OpenVisits:
    """The start of each (site, key)'s visits by when they were last written, in generations."""

    def __init__(self) -> None:
        self._lock_fd: int | None = None
        self.ready = False  # False: rebuilt from the rows before the next answer
        self.horizon = 0.0  # visits with an event at or after this are all known
        self.last_id = 0  # every visit row up to this id is known
        self.version: int | None = None  # data_version when last_id was read
        self._generations: list[_Generation] = []
        self._size = 0
        self._pending: tuple[int | None, int] | None = None

    # --- the lock -------------------------------------------------------------------------

    def claim(self, path: str) -> bool:
        """Whether this process holds the database's visits: the first to lock the file beside
        it does, until it closes (asked again at each lookup, so a server started while another
        drains takes over once it has gone). An in-memory database has one connection."""
        if path == ":memory:" or self._lock_fd is not None:
            return True
        try:
            fd = os.open(f"{path}-visits.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        self.forget()
        return True

    def release(self) -> None:
        """At close: another process may hold from now on."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self.forget()

    # --- what is known --------------------------------------------------------------------

    def forget(self) -> None:
        """Drops what is known: rebuilt from the rows before the next answer."""
        self.ready = False
        self._generations = []
        self._size = 0
        self._pending = None

    def rebuilt(self, since: float, last_id: int, version: int, visits: Iterable[Visit]) -> None:
        """Known from the rows: every visit with an event since `since`, every row to
        `last_id`, as of `version`."""
        self.forget()
        self.add(visits)
        self.horizon, self.last_id, self.version, self.ready = since, last_id, version, True

    def add(self, visits: Iterable[Visit]) -> None:
        for visit in visits:
            generations = self._generations
            if not generations or visit.last_ts >= generations[-1].opened + GENERATION_S:
                generations.append(_Generation(visit.last_ts))
            generation = generations[-1]
            key = (visit.site_id, visit.key)
            held = generation.starts.get(key)
            if held is None:
                self._size += 1
                generation.starts[key] = visit.started
            elif visit.started > held:
                generation.starts[key] = visit.started
            generation.newest = max(generation.newest, visit.last_ts)
        self._trim()

    def _trim(self) -> None:
        """Generations whose newest event is a half hour (and one generation) older than the
        newest one are dropped, or the oldest once too many starts are held: from then on,
        only events after them are answered from memory."""
        generations = self._generations
        while len(generations) > 1 and (
            generations[0].newest < generations[-1].newest - TIMEOUT_S - GENERATION_S
            or self._size > MAX_KEYS
        ):
            dropped = generations.pop(0)
            self._size -= len(dropped.starts)
            self.horizon = max(self.horizon, math.nextafter(dropped.newest, math.inf))

    def covers(self, since: float) -> bool:
        return self.ready and since >= self.horizon

    def starts(self, keys: Sequence[Key]) -> list[tuple[int, str, float]]:
        """(site, key, start) of every visit held for these keys (none for a new visitor)."""
        found: list[tuple[int, str, float]] = []
        for key in keys:
            seen: set[float] = set()
            for generation in self._generations:
                started = generation.starts.get(key)
                if started is not None and started not in seen:
                    seen.add(started)
                    found.append((key[0], key[1], started))
        return found

    # --- the writer's own batches ---------------------------------------------------------

    def stored(self, version: int, last_id: int) -> None:
        """Inside a batch's transaction, after its visits: the database's data_version and
        largest visit id then. The rows to `last_id` are known once it commits, unless another
        connection committed since `version` was last read (then they are read back first)."""
        self._pending = (version, last_id)

    def written(self, visits: Sequence[Visit]) -> None:
        """The batch committed: its visits are known."""
        pending, self._pending = self._pending, None
        if not self.ready:
            return
        self.add(visits)
        if pending is not None and pending[0] == self.version:
            self.last_id = max(self.last_id, pending[1])


def recovery_since(since: float) -> float:
    """How far back to rebuild for a lookup of events since `since`: a generation more, so the
    next batches (whose events are seldom older) are answered from memory."""
    return since - GENERATION_S
