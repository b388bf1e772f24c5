"""SQLite: the process holding the database tells open visits from memory (ADR 0039); what it
knows is rebuilt after a restart or a failed batch, and another process's visits are read back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from firstmark.domain.visits import TIMEOUT_S, Visit
from firstmark.errors import StoreUnavailable
from firstmark.store.sqlite.openvisits import GENERATION_S, OpenVisits
from firstmark.store.sqlite.store import SQLiteStore
from sqlitetools import killed, opened

T0 = 1_764_000_000.0


def visit(key: str, started: float, last_ts: float | None = None, **fields: Any) -> Visit:
    values: dict[str, Any] = {
        "site_id": 1, "key": key, "started": started,
        "last_ts": started if last_ts is None else last_ts, "visitor_day_hash": "d",
        "entry_path": "/", "exit_path": "/", "pageviews": 1, "events": 0,
        "source": "(direct)", "medium": "(none)", "channel": "Direct",
    }  # fmt: skip
    return Visit(**{**values, **fields})


def counting(store: SQLiteStore) -> list[str]:
    """The reads the store makes from now on."""
    seen: list[str] = []
    read = store._all

    async def spy(sql: str, params: Any = ()) -> Any:
        seen.append(sql)
        return await read(sql, params)

    store._all = spy  # type: ignore[method-assign]
    return seen


async def found(store: SQLiteStore, keys: list[str], since: float) -> dict[str, Visit]:
    return {
        v.key: replace(v, id=None) for v in await store.open_visits([(1, k) for k in keys], since)
    }


async def test_new_visitors_cost_no_read_and_known_ones_are_read_exactly(tmp_path: Path) -> None:
    store = await opened(tmp_path / "fm.db")
    a = visit("h:a", T0, T0 + 60)
    await store.write_events([], [], [], [], [a])
    assert await found(store, ["h:a", "h:new"], T0) == {"h:a": a}  # taken: rebuilt from rows
    assert store._open_visits.ready
    reads = counting(store)
    assert await found(store, ["h:x", "h:y"], T0 + 100) == {}
    assert reads == []
    later = replace(a, last_ts=T0 + 900, pageviews=2)
    newer = visit("h:a", T0 + 5000)
    await store.write_events([], [], [], [], [later])
    assert await found(store, ["h:a"], T0 + 300) == {"h:a": later}
    await store.write_events([], [], [], [], [newer])
    assert await found(store, ["h:a", "h:b"], T0 + 4000) == {"h:a": newer}
    assert len(reads) == 2  # one exact read per lookup of a known key
    await store.close()


async def test_memory_forgets_what_is_long_closed_and_reads_older_events_from_rows(
    tmp_path: Path,
) -> None:
    store = await opened(tmp_path / "fm.db")
    old = visit("h:old", T0)
    await store.write_events([], [], [], [], [old])
    assert await found(store, ["h:old"], T0) == {"h:old": old}
    # Two hours of other visits later, the old one is no longer held...
    late = T0 + 7200
    await store.write_events([], [], [], [], [visit(f"h:{n}", late + n) for n in range(3)])
    assert store._open_visits.horizon > T0
    assert await found(store, ["h:old"], late) == {}
    # ...and a batch of events as old as it is answered from the rows again.
    assert await found(store, ["h:old"], T0 - 60) == {"h:old": old}
    assert await found(store, ["h:2"], late - TIMEOUT_S) == {"h:2": visit("h:2", late + 2)}
    await store.close()


async def test_a_restart_after_a_kill_rebuilds_from_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "fm.db"
    first = await opened(path)
    assert await found(first, ["h:a"], T0) == {}
    a = visit("h:a", T0, T0 + 120, pageviews=3)
    await first.write_events([], [], [], [], [a, visit("h:b", T0 - 3 * 3600)])
    await killed(first)
    second = await opened(path)
    assert await found(second, ["h:a", "h:b"], T0 + 60) == {"h:a": a}
    assert second._open_visits.ready
    await second.close()


async def test_a_failed_batch_is_not_known_and_memory_is_rebuilt(tmp_path: Path) -> None:
    store = await opened(tmp_path / "fm.db")
    a = visit("h:a", T0)
    await store.write_events([], [], [], [], [a])
    assert await found(store, ["h:a"], T0) == {"h:a": a}
    # entry_path is NOT NULL: the batch fails.
    broken = replace(visit("h:b", T0 + 10), entry_path=None)  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable):
        await store.write_events([], [], [], [], [replace(a, last_ts=T0 + 5), broken])
    assert not store._open_visits.ready
    assert await found(store, ["h:a", "h:b"], T0) == {"h:a": a}
    assert store._open_visits.ready
    await store.close()


async def test_another_process_writes_visits_the_holder_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "fm.db"
    holder, other = await opened(path), await opened(path)
    assert await found(holder, ["h:a"], T0) == {}
    assert holder._open_visits.ready
    # The other process does not hold: it looks visits up in the table, and finds the holder's.
    mine = visit("h:mine", T0 + 1)
    await holder.write_events([], [], [], [], [mine])
    assert await found(other, ["h:mine"], T0) == {"h:mine": mine}
    assert not other._open_visits.ready
    theirs = visit("h:a", T0 + 2, T0 + 30)
    await other.write_events([], [], [], [], [theirs])
    assert await found(holder, ["h:a", "h:mine"], T0) == {"h:a": theirs, "h:mine": mine}
    # Once the holder has gone, the other takes over and rebuilds from the rows.
    await holder.close()
    assert await found(other, ["h:a", "h:mine"], T0) == {"h:a": theirs, "h:mine": mine}
    assert other._open_visits.ready
    await other.close()


def test_generations_drop_only_what_cannot_be_open() -> None:

    memory = OpenVisits()
    memory.rebuilt(T0, 0, 0, [])
    memory.add([visit("h:a", T0, T0 + 10)])
    memory.add([visit(f"h:{n}", T0 + n * GENERATION_S) for n in range(1, 9)])
    assert memory.starts([(1, "h:a")]) == [(1, "h:a", T0)]
    assert memory.covers(T0)
    memory.add([visit("h:z", T0 + 10 + TIMEOUT_S + 2 * GENERATION_S)])
    assert memory.starts([(1, "h:a")]) == []
    # Gone with its generation, whose newest visit is h:1's: later events are still answered.
    assert not memory.covers(T0 + GENERATION_S) and memory.covers(T0 + GENERATION_S + 1)
