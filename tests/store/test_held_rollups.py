"""SQLite's one server holds rollup increments for up to a second (ADR 0031): the reports end
up exactly as if every batch had written its rollups, after a settle, a clean stop, a crash
or a failed batch, and a second process on the same file neither holds nor sums what the
first still holds."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path

import pytest

from firstmark.domain.hits import Hit, RawHit
from firstmark.domain.links import Link
from firstmark.geo import GeoLookup
from firstmark.ingest.hits import HitWriter
from firstmark.store.sqlite import heldrollups
from firstmark.store.sqlite.store import SQLiteStore
from sqlitetools import killed, opened

DAY = 20_500  # a day in 2026
T0 = DAY * 86400.0 + 3600
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


def hits(link_ids: list[int], n: int, seed: int) -> list[Hit]:
    """Clicks over two days and several hours, some repeat visitors, bots, split variants."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        bot = rng.random() < 0.1
        out.append(
            Hit(
                rng.choice(link_ids), T0 + rng.randrange(0, 2 * 86400), "click",
                f"v{rng.randrange(40)}", rng.choice(["NO", "SE", None]), None, None,
                rng.choice(["mobile", "desktop"]), "iOS", "Safari", rng.choice([None, "t.co"]),
                bot, "crawler:x" if bot else None, "nb", rng.choice([None, 0, 1]),
            )
        )  # fmt: skip
    return sorted(out, key=lambda h: h.ts)


async def links(store: SQLiteStore, n: int = 3) -> list[int]:
    ids = []
    for i in range(n):
        saved = await store.insert_link(Link(destination="https://a.example/", code=f"l{i}"))
        assert saved.id is not None
        ids.append(saved.id)
    return ids


async def report(store: SQLiteStore, link_ids: list[int]) -> object:
    """Everything the rollups answer: hourly series, breakdowns, variants, totals."""
    start, end = T0 - 3600, T0 + 3 * 86400
    return (
        sorted(await store.rollups(link_ids, start, end), key=repr),
        [sorted(await store.breakdown(i, "country", start, end, 10), key=repr) for i in link_ids],
        [await store.variant_counts(i) for i in link_ids],
        [await store.human_hit_count(i) for i in link_ids],
    )


async def expected(tmp_path: Path, batches: list[list[Hit]]) -> object:
    """The same batches written the plain way, each with its rollups."""
    store = await opened(tmp_path / "plain.db")
    ids = await links(store)
    for batch in batches:
        await store.write_hits(batch)
    found = await report(store, ids)
    await store.close()
    return found


def batches_of(all_hits: list[Hit], size: int) -> list[list[Hit]]:
    return [all_hits[i : i + size] for i in range(0, len(all_hits), size)]


async def test_held_increments_wait_then_add_up_to_the_plain_rollups(tmp_path: Path) -> None:
    batches = batches_of(hits([1, 2, 3], 600, seed=1), 50)
    want = await expected(tmp_path, batches)
    store = await opened(tmp_path / "fm.db")
    ids = await links(store)
    for batch in batches:
        await store.write_hits(batch, hold=True)
    assert await store.count_hits() == 600  # the rows are stored with each batch...
    held = await report(store, ids)
    assert held != want  # ...the increments are not, within the second
    with sqlite3.connect(tmp_path / "fm.db") as db:
        assert db.execute("SELECT count(*) FROM rollup_pending").fetchone()[0] == len(batches)
    await store.settle_hits(force=True)
    assert await report(store, ids) == want
    with sqlite3.connect(tmp_path / "fm.db") as db:
        assert db.execute("SELECT count(*) FROM rollup_pending").fetchone()[0] == 0
    await store.close()


async def test_increments_are_written_once_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = batches_of(hits([1, 2, 3], 200, seed=2), 50)
    store = await opened(tmp_path / "fm.db")
    ids = await links(store)
    now = [100.0]
    store._held.clock = lambda: now[0]
    await store.write_hits(batches[0], hold=True)
    await store.settle_hits()
    assert await store.human_hit_count(ids[0]) == 0  # not due yet
    now[0] += heldrollups.HOLD_S
    await store.write_hits(batches[1], hold=True)  # due: written with this batch
    assert sum([await store.human_hit_count(i) for i in ids]) == sum(
        1 for h in batches[0] + batches[1] if not h.is_bot
    )
    await store.write_hits(batches[2], hold=True)
    now[0] += heldrollups.HOLD_S
    await store.settle_hits()  # the idle writer's call
    monkeypatch.setattr(heldrollups, "MAX_ROWS", 1)  # and a full memory writes at once
    await store.write_hits(batches[3], hold=True)
    assert await report(store, ids) == await expected(tmp_path, batches)
    await store.close()


async def test_a_clean_stop_writes_what_is_held(tmp_path: Path) -> None:
    batches = batches_of(hits([1, 2, 3], 300, seed=3), 100)
    store = await opened(tmp_path / "fm.db")
    ids = await links(store)
    for batch in batches:
        await store.write_hits(batch, hold=True)
    await store.close()
    store = await opened(tmp_path / "fm.db")
    assert await report(store, ids) == await expected(tmp_path, batches)
    await store.close()


async def test_a_crash_sums_the_pending_hits_again_without_counting_any_twice(
    tmp_path: Path,
) -> None:
    batches = batches_of(hits([1, 2, 3], 900, seed=4), 100)
    store = await opened(tmp_path / "fm.db")
    ids = await links(store)
    now = [0.0]
    store._held.clock = lambda: now[0]
    for n, batch in enumerate(batches[:6]):
        if n == 3:
            now[0] += heldrollups.HOLD_S  # batches 0-3 are written with batch 3
        await store.write_hits(batch, hold=True)
    await killed(store)
    store = await opened(tmp_path / "fm.db")
    for batch in batches[6:]:
        await store.write_hits(batch, hold=True)  # the first one sums batches 4 and 5 again
    await store.settle_hits(force=True)
    assert await report(store, ids) == await expected(tmp_path, batches)
    await store.close()


async def test_a_failed_batch_is_not_counted(tmp_path: Path) -> None:
    batches = batches_of(hits([1, 2, 3], 300, seed=5), 100)
    store = await opened(tmp_path / "fm.db")
    ids = await links(store)
    await store.write_hits(batches[0], hold=True)
    broken = [*batches[1][:50], batches[1][50]._replace(ts="not a time")]  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017 - any failure of the batch's transaction
        await store.write_hits(broken, hold=True)
    await store.write_hits(batches[1], hold=True)
    await store.write_hits(batches[2], hold=True)
    await store.settle_hits(force=True)
    assert await report(store, ids) == await expected(tmp_path, batches)
    await store.close()


async def test_a_second_process_writes_its_rollups_and_leaves_the_first_ones_alone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fm.db"
    server = await opened(path)
    ids = await links(server)
    cli = await opened(path)
    batches = batches_of(hits(ids, 400, seed=6), 100)
    await server.write_hits(batches[0], hold=True)
    await cli.write_hits(batches[1], hold=True)  # cannot hold: the server does
    assert sum([await cli.human_hit_count(i) for i in ids]) == sum(
        1 for h in batches[1] if not h.is_bot
    )
    await server.write_hits(batches[2], hold=True)
    await cli.write_hits(batches[3], hold=True)
    await cli.close()
    await server.close()
    await expected(tmp_path, batches)
    store = await opened(path)
    # Hits, not uniques: two processes' sketches each count a visitor once (ADR 0029).
    plain = await opened(tmp_path / "plain.db")
    assert await counts(store, ids) == await counts(plain, ids)
    await plain.close()
    await store.close()


async def counts(store: SQLiteStore, link_ids: list[int]) -> object:
    rows = await store.rollups(link_ids, T0 - 3600, T0 + 3 * 86400)
    return sorted((r.hour, r.kind, r.hits, r.bot_hits) for r in rows)


async def test_the_idle_writer_settles_within_the_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heldrollups, "HOLD_S", 0.05)
    store = await opened(tmp_path / "fm.db")
    (lid,) = await links(store, 1)
    writer = HitWriter(store, GeoLookup(), capacity=100, batch=50, flush_ms=10)
    writer.start()
    for n in range(20):
        await writer.put(
            RawHit(lid, T0 + n, "click", "s.example", f"203.0.113.{n}", BROWSER, "", "en")
        )
    for _ in range(100):  # no drain: the writer settles on its own once idle
        if await store.human_hit_count(lid) == 20:
            break
        await asyncio.sleep(0.02)
    assert await store.human_hit_count(lid) == 20
    await writer.stop()
    await store.close()
