"""SQLite tells first visits from the writer's day sketches: exact for small days, saved with
the hits, rebuilt after a crash or a failed batch, seeded from the rows of an older version,
and deleted with the day's salt."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firstmark.domain.hits import Hit
from firstmark.domain.links import Link
from firstmark.domain.sketches import DaySketch, hash64
from firstmark.store.sqlite import sketches as sketch_module
from firstmark.store.sqlite.store import SQLiteStore
from sqlitetools import killed, opened

DAY = 20_500  # a day in 2026
T0 = DAY * 86400.0 + 3600


def hit(link_id: int, ts: float, visitor: str, *, bot: bool = False) -> Hit:
    return Hit(
        link_id=link_id, ts=ts, kind="click", visitor_day_hash=visitor, country="NO",
        region=None, city=None, device_type="mobile", os="iOS", browser="Mobile Safari",
        referrer_host=None, is_bot=bot, bot_reason="crawler:x" if bot else None, lang="nb",
    )  # fmt: skip


def names(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.getrandbits(96):024x}" for _ in range(n)]


async def new_link(store: SQLiteStore, code: str = "a") -> int:
    now = datetime(2026, 2, 1, tzinfo=UTC)
    saved = await store.insert_link(
        Link(destination="https://a.example/", code=code, created_at=now, updated_at=now)
    )
    assert saved.id is not None
    return saved.id


async def uniques(store: SQLiteStore, link_id: int) -> int:
    rows = await store.rollups([link_id], T0 - 3600, T0 + 3 * 86400)
    return sum(r.uniques for r in rows)


async def test_visitors_count_once_a_day_across_batches_bots_and_restarts(
    tmp_path: Path,
) -> None:
    store = await opened(tmp_path / "fm.db")
    lid = await new_link(store)
    await store.write_hits([hit(lid, T0, "a"), hit(lid, T0 + 1, "a"), hit(lid, T0 + 2, "b")])
    await store.write_hits([hit(lid, T0 + 3, "b"), hit(lid, T0 + 4, "bot", bot=True)])
    assert await uniques(store, lid) == 2
    await store.close()  # a clean stop saves the sketches
    store = await opened(tmp_path / "fm.db")
    await store.write_hits([hit(lid, T0 + 5, "a"), hit(lid, T0 + 6, "c")])
    await store.write_hits([hit(lid, T0 + 86400, "a")])  # the next day: new again
    assert await uniques(store, lid) == 4
    await store.close()


async def test_a_crash_before_the_save_replays_the_hits_written_since(tmp_path: Path) -> None:
    path = tmp_path / "fm.db"
    store = await opened(path)
    lid = await new_link(store)
    await store.write_hits([hit(lid, T0, v) for v in ("a", "b", "c")])
    await killed(store)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM visitor_sketches").fetchone()[0] <= 1
    store = await opened(path)
    await store.write_hits([hit(lid, T0 + 10, v) for v in ("a", "b", "c", "d")])
    assert await uniques(store, lid) == 4
    await store.close()


async def test_a_failed_batch_leaves_no_visitor_behind(tmp_path: Path) -> None:
    store = await opened(tmp_path / "fm.db")
    lid = await new_link(store)
    await store.write_hits([hit(lid, T0, "a")])
    with pytest.raises(Exception):  # noqa: B017 - any failure of the batch's transaction
        await store.write_hits([hit(lid, T0 + 1, "b"), hit(lid, "not a time", "c")])  # type: ignore[arg-type]
    await store.write_hits([hit(lid, T0 + 2, "b"), hit(lid, T0 + 3, "a")])
    assert await uniques(store, lid) == 2
    await store.close()


async def test_an_upgraded_database_seeds_the_sketches_from_its_visitor_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fm.db"
    store = await opened(path)
    lid = await new_link(store)
    await store.close()
    with sqlite3.connect(path) as conn:  # as an older version left it: a row per visitor
        conn.executemany(
            "INSERT INTO hit_visitors (link_id, day, visitor_day_hash) VALUES (?, ?, ?)",
            [(lid, DAY, v) for v in ("a", "b")],
        )
        conn.execute("DELETE FROM visitor_sketch_mark")
    store = await opened(path)
    await store.write_hits([hit(lid, T0, v) for v in ("a", "b", "c")])
    assert await uniques(store, lid) == 1
    await store.close()


async def test_sketches_leave_memory_over_budget_and_come_back_from_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sketch_module, "SAVE_EVERY_S", 0.0)  # save with every batch
    store = await opened(tmp_path / "fm.db")
    store._sketches.memory = 1  # nothing stays in memory after a save
    links = [await new_link(store, f"l{n}") for n in range(5)]
    people = names(40)
    for lid in links:
        await store.write_hits([hit(lid, T0, v) for v in people[:30]])
    assert store._sketches.sketches == {}
    for lid in links:
        await store.write_hits([hit(lid, T0 + 60, v) for v in people[20:]])
    assert [await uniques(store, lid) for lid in links] == [40] * 5
    await store.close()


async def test_a_busy_day_is_estimated_and_its_hours_add_up(tmp_path: Path) -> None:
    store = await opened(tmp_path / "fm.db")
    lid = await new_link(store)
    people = names(12_000)
    for start in range(0, len(people), 1_000):
        ts = T0 + start  # spread over hours
        batch = [hit(lid, ts + n / 10, v) for n, v in enumerate(people[start : start + 1_000])]
        await store.write_hits(batch + [hit(lid, ts + 200, v) for v in people[:100]])
    rows = await store.rollups([lid], T0 - 3600, T0 + 86400)
    assert len(rows) > 1
    total = sum(r.uniques for r in rows)
    assert abs(total - 12_000) / 12_000 < 0.03
    await store.close()
    store = await opened(tmp_path / "fm.db")
    await store.write_hits([hit(lid, T0 + 20_000, v) for v in people[:500]])
    after = sum(r.uniques for r in await store.rollups([lid], T0 - 3600, T0 + 86400))
    assert after - total <= 10  # returning visitors, a few at most by the estimate's wobble
    await store.close()


async def test_sketches_go_with_the_days_salt(tmp_path: Path) -> None:
    store = await opened(tmp_path / "fm.db")
    lid = await new_link(store)
    await store.write_hits([hit(lid, T0, "a"), hit(lid, T0 + 86400 * 2, "b")])
    await store.close()
    store = await opened(tmp_path / "fm.db")
    await store.forget_salts(DAY + 1)
    days = [r[0] for r in await store.db.fetch("SELECT day FROM visitor_sketches ORDER BY day")]
    assert days == [DAY + 2]
    await store.close()


async def test_an_unreadable_sketch_starts_again_and_never_blocks_the_writer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fm.db"
    store = await opened(path)
    lid = await new_link(store)
    await store.write_hits([hit(lid, T0, "a")])
    await store.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE visitor_sketches SET sketch = x'00ff'")
    store = await opened(path)
    await store.write_hits([hit(lid, T0 + 1, "a"), hit(lid, T0 + 2, "b")])
    await store.write_hits([hit(lid, T0 + 3, "b")])
    assert await store.count_hits(lid) == 4
    assert await uniques(store, lid) == 3  # "a" once more, after the damage; "b" once
    await store.close()


async def test_two_processes_on_one_file_merge_their_sketches_when_they_save(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fm.db"
    first, second = await opened(path), await opened(path)
    lid = await new_link(first)
    await first.write_hits([hit(lid, T0, "a")])
    await second.write_hits([hit(lid, T0 + 1, "b")])
    await first.close()
    await second.close()  # finds the first's save and merges it in
    store = await opened(path)
    await store.write_hits([hit(lid, T0 + 2, v) for v in ("a", "b", "c")])
    assert await uniques(store, lid) == 3
    await store.close()


def test_many_changed_sketches_are_saved_less_often() -> None:
    """Every 5 s while little changed; with 800 sketches of 2,048 visitors (about 26 MB to
    write) no more than 4 MB a second on average."""
    now = [0.0]
    people = [hash64(v) for v in names(2_048)]
    small = sketch_module.SketchCache(clock=lambda: now[0])
    small.sketches[(1, DAY)] = DaySketch()
    small.get((1, DAY)).add(people[0])
    busy = sketch_module.SketchCache(clock=lambda: now[0])
    for link_id in range(800):
        sketch = busy.sketches[(link_id, DAY)] = DaySketch()
        for h in people:
            sketch.add(h)
        busy.get((link_id, DAY))
    wait = sum(busy.sketches[k].memory() for k in busy.dirty) / sketch_module.SAVE_BYTES_PER_S
    assert wait > 6
    now[0] = 4.9
    assert not small.due() and not busy.due()
    now[0] = 5.0
    assert small.due() and not busy.due()
    now[0] = wait - 0.1
    assert not busy.due()
    now[0] = wait + 0.1
    assert busy.due()
