"""SQLite: first visits from day sketches held by the one writer (ADR 0029).

A SQLite database serves one node, so the writer can keep each link's visitors of the day in
memory and tell first visits without a row per visitor (a random-key B-tree insert for every
new visitor was half the cost of a click under real traffic). The sketches are saved with a
batch of hits every SAVE_EVERY_S seconds, together with the id of the last hit they include.
After a crash, or a batch that failed, the memory is dropped and rebuilt from the saved
sketches and the hits written after that id, so no visitor is counted twice.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

import aiosqlite

from firstmark.domain.sketches import DayKey, DaySketch, Key, hash64, learn
from firstmark.domain.visitors import first_kept_day

log = logging.getLogger("firstmark.ingest")

SAVE_EVERY_S = 5.0
SAVE_BYTES_PER_S = 4 * 2**20  # sketch bytes written a second, on average, at most
MEMORY = 32 * 2**20  # bytes of sketches kept in memory after a save
_CHUNK = 5_000  # (link, day) pairs per statement: two bound variables each


def _among(pairs: Sequence[DayKey]) -> str:
    """(link, day) pairs as a row-value IN list."""
    return f"(link_id, day) IN (VALUES {', '.join(['(?, ?)'] * len(pairs))})"


def _chunks(keys: Sequence[DayKey]) -> list[Sequence[DayKey]]:
    return [keys[start : start + _CHUNK] for start in range(0, len(keys), _CHUNK)]


def _readable(link_id: int, day: int, data: bytes, credited: int) -> DaySketch:
    """A stored sketch; one that cannot be read starts again empty (its visitors may count
    once more that day) rather than stopping every later batch."""
    try:
        return DaySketch.from_bytes(bytes(data), credited)
    except ValueError:
        log.warning("visitor sketch of link %s on day %s unreadable: started again", link_id, day)
        sketch = DaySketch()
        sketch.credited = credited
        return sketch


class SketchCache:
    """The writer's sketches by (link, day), least recently used first."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, memory: int = MEMORY
    ) -> None:
        self.sketches: OrderedDict[DayKey, DaySketch] = OrderedDict()
        self.versions: dict[DayKey, int] = {}  # as last read or saved; absent: not stored
        self.dirty: set[DayKey] = set()
        self.ready = False
        self.clock = clock
        self.memory = memory
        self.saved_at = clock()
        self.next_save = self.saved_at + SAVE_EVERY_S

    def get(self, key: DayKey) -> DaySketch:
        """A loaded sketch, marked as changed (first_visits adds to it)."""
        sketch = self.sketches[key]
        self.sketches.move_to_end(key)
        self.dirty.add(key)
        return sketch

    def forget(self) -> None:
        """Drops everything in memory: the next batch rebuilds from the database."""
        self.sketches.clear()
        self.versions.clear()
        self.dirty.clear()
        self.ready = False

    def due(self) -> bool:
        """Whether this batch saves: every SAVE_EVERY_S seconds, or less often when many
        sketches changed, so that saving writes at most SAVE_BYTES_PER_S on average (10,000
        busy links would otherwise rewrite hundreds of MB every few seconds; a crash then
        replays more hits, at start-up)."""
        now = self.clock()
        if now < self.next_save:
            return False
        changed = sum(self.sketches[k].memory() for k in self.dirty)
        self.next_save = max(self.next_save, self.saved_at + changed / SAVE_BYTES_PER_S)
        return now >= self.next_save

    async def prepare(self, conn: aiosqlite.Connection, keys: Sequence[Key]) -> None:
        """Inside the batch's transaction: rebuild when needed, then load the sketches of the
        batch's (link, day) pairs that are not in memory."""
        if not self.ready:
            await self._rebuild(conn)
        wanted = list(
            dict.fromkeys((k[0], k[1]) for k in keys if (k[0], k[1]) not in self.sketches)
        )
        if wanted:
            await self._load(conn, wanted)

    async def _load(self, conn: aiosqlite.Connection, wanted: Sequence[DayKey]) -> None:
        for chunk in _chunks(wanted):
            rows = await conn.execute_fetchall(
                "SELECT link_id, day, version, credited, sketch FROM visitor_sketches "
                f"WHERE {_among(chunk)}",
                [v for pair in chunk for v in pair],
            )
            for link_id, day, version, credited, data in rows:
                self.sketches[(link_id, day)] = _readable(link_id, day, data, credited)
                self.versions[(link_id, day)] = version
        for key in wanted:
            if key not in self.sketches:
                self.sketches[key] = DaySketch()

    async def _rebuild(self, conn: aiosqlite.Connection) -> None:
        """The saved sketches, plus the visitors of the hits written after them (seeded from
        hit_visitors the first time, on a database upgraded from one row per visitor)."""
        self.forget()
        marks = list(await conn.execute_fetchall("SELECT hit_id FROM visitor_sketch_mark"))
        mark = marks[0][0] if marks else None
        if mark is None:
            sql = "SELECT link_id, day, visitor_day_hash FROM hit_visitors"
            params: tuple[int, ...] = ()
        else:
            sql = (
                "SELECT h.link_id, CAST(h.ts / 86400 AS INTEGER), h.visitor_day_hash "
                "FROM hits h JOIN hit_dims d ON d.id = h.dims_id "
                "WHERE h.id > ? AND NOT d.is_bot"
            )
            params = (mark,)
        found: dict[DayKey, list[int]] = {}
        async with conn.execute(sql, params) as cursor:
            async for link_id, day, visitor in cursor:
                found.setdefault((link_id, day), []).append(hash64(visitor))
        await self._load(conn, list(found))
        for key, hashes in found.items():
            learn(self.sketches[key], hashes)
            self.dirty.add(key)
        self.ready = True
        await self.save(conn)

    async def save(self, conn: aiosqlite.Connection) -> None:
        """Inside a write transaction: the changed sketches (merged with any another process
        saved meanwhile) and the id of the last hit they include."""
        keys = sorted(self.dirty)
        stored: dict[DayKey, int] = {}
        for chunk in _chunks(keys):
            rows = await conn.execute_fetchall(
                f"SELECT link_id, day, version FROM visitor_sketches WHERE {_among(chunk)}",
                [v for pair in chunk for v in pair],
            )
            stored.update(((r[0], r[1]), r[2]) for r in rows)
        # Another process saved these meanwhile (rare: the CLI writing hits while the server
        # runs): theirs are merged in, read only now.
        theirs = [k for k in keys if stored.get(k, 0) not in (0, self.versions.get(k, 0))]
        for chunk in _chunks(theirs):
            rows = await conn.execute_fetchall(
                f"SELECT link_id, day, credited, sketch FROM visitor_sketches WHERE "
                f"{_among(chunk)}",
                [v for pair in chunk for v in pair],
            )
            for link_id, day, credited, data in rows:
                other = _readable(link_id, day, data, credited)
                sketch = self.sketches[(link_id, day)]
                sketch.merge(other)
                sketch.credited = max(sketch.credited, other.credited)
        values = []
        for key in keys:
            sketch = self.sketches[key]
            version = stored.get(key, 0)
            self.versions[key] = version + 1
            values.append((key[0], key[1], version + 1, sketch.credited, sketch.to_bytes()))
        await conn.executemany(
            "INSERT INTO visitor_sketches (link_id, day, version, credited, sketch) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (link_id, day) DO UPDATE SET "
            "version = excluded.version, credited = excluded.credited, sketch = excluded.sketch",
            values,
        )
        await conn.execute(
            "INSERT INTO visitor_sketch_mark (id, hit_id) "
            "SELECT 1, coalesce(max(id), 0) FROM hits WHERE true "
            "ON CONFLICT (id) DO UPDATE SET hit_id = excluded.hit_id"
        )
        self.saved_at = self.clock()
        self.next_save = self.saved_at + SAVE_EVERY_S

    def saved(self) -> None:
        """After the save's commit: nothing is dirty; days before yesterday (of the newest day
        held) and, over the memory budget, the least recently used sketches leave memory
        (they are in the database)."""
        self.dirty.clear()
        first_day = first_kept_day(max((k[1] for k in self.sketches), default=0))
        for key in [k for k in self.sketches if k[1] < first_day]:
            del self.sketches[key]
            self.versions.pop(key, None)
        used = sum(s.memory() for s in self.sketches.values())
        while used > self.memory and self.sketches:
            key, sketch = self.sketches.popitem(last=False)
            self.versions.pop(key, None)
            used -= sketch.memory()
