"""Retention: what a purge takes per class, on both engines; the daily job; the salt timer."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any, cast

import pytest

from firstmark.config import Settings
from firstmark.domain.audit import Query
from firstmark.domain.retention import CLASSES, RawTable
from firstmark.forward.adapters import ADAPTERS
from firstmark.services import demo, retention
from firstmark.store import Store, create_store

DAY = 86_400.0


def old_demo_day(now: float) -> dt.date:
    """The last demo day, so its 90 days straddle the 395-day line."""
    return dt.datetime.fromtimestamp(now - 350 * DAY, dt.UTC).date()


async def count(store: Store, table: str, where: str = "1 = 1") -> int:
    db = cast(Any, store).db
    return int(await db.fetchval(f"SELECT count(*) FROM {table} WHERE {where}"))


async def test_dry_run_counts_without_deleting_and_summary_shows_the_last_purge(
    any_store: Store, settings: Settings
) -> None:
    now = time.time()
    await demo.seed(any_store, old_demo_day(now), b"k" * 32, now=now)
    hits = await count(any_store, "hits")
    counted = {
        o.name: o.rows for o in await retention.purge(any_store, settings, dry_run=True, now=now)
    }
    assert counted["hits"] > 0 and await count(any_store, "hits") == hits
    assert (await retention.summary(any_store, settings))["hits"] == {
        "days": 395, "last_purge": None, "deleted": 0,
    }  # fmt: skip
    done = {o.name: o.rows for o in await retention.purge(any_store, settings, now=now)}
    assert done == counted
    assert await count(any_store, "hits") == hits - counted["hits"]
    summary = await retention.summary(any_store, settings)
    assert summary["hits"] == {"days": 395, "last_purge": now, "deleted": counted["hits"]}
    assert summary["audit"]["deleted"] == 0  # no audit table yet: skipped
    again = {o.name: o.rows for o in await retention.purge(any_store, settings, now=now)}
    assert set(again.values()) == {0}
    # Each purge is in the audit log with the rows per class; the dry run is not.
    entries, total = await any_store.list_audit(Query(action="purge"))
    assert total == 2
    assert [(e.actor, e.object_kind) for e in entries] == [("system", "retention")] * 2
    assert entries[1].detail["hits"] == counted["hits"] and entries[0].detail["hits"] == 0


async def test_small_batches_take_everything_and_zero_days_keeps_for_ever(
    any_store: Store, settings: Settings
) -> None:
    now = time.time()
    await demo.seed(any_store, old_demo_day(now), b"k" * 32, now=now)
    hits = await count(any_store, "hits")
    keep = Settings(**{**settings.__dict__, "retention_hits_days": 0, "purge_batch": 7})
    done = {o.name: o.rows for o in await retention.purge(any_store, keep, now=now)}
    assert done["hits"] == 0 and await count(any_store, "hits") == hits
    assert done["touches"] > 7 and await count(any_store, "touches", f"ts < {now - 395 * DAY}") == 0


async def test_the_purge_runs_on_one_node_once_a_day(any_store: Store, settings: Settings) -> None:
    now = time.time()
    if cast(Any, any_store).engine == "postgres":
        # Another node purging now holds the lock: this one skips its turn.
        other = create_store(cast(Any, any_store).url)
        await other.open()
        try:
            async with other.purge_lock() as theirs:
                assert theirs
                assert await retention.purge_if_due(any_store, settings, now=now) is False
        finally:
            await other.close()
    assert await retention.purge_if_due(any_store, settings, now=now) is True
    assert await retention.purge_if_due(any_store, settings, now=now + 3600) is False
    assert await retention.purge_if_due(any_store, settings, now=now + 86_400) is True


async def test_salts_go_48_hours_after_their_day_starts(any_store: Store) -> None:
    today = int(time.time() // DAY)
    for day in (today - 3, today - 2, today - 1, today):
        await any_store.salt_for_day(day)
    await retention.forget_old_salts(any_store, now=today * DAY + 5)
    days = [r[0] for r in await cast(Any, any_store).db.fetch("SELECT day FROM salts ORDER BY day")]
    assert days == [today - 1, today]


def test_conversion_hashes_go_after_the_longest_platform_window() -> None:
    longest = max(adapter.MAX_AGE_S for adapter in ADAPTERS.values())
    conversions = next(c for c in CLASSES if c.name == "conversions")
    assert conversions.default_days * DAY == longest


def test_every_class_has_its_setting_with_the_documented_default() -> None:
    settings = Settings()
    for data_class in CLASSES:
        if data_class.setting:
            assert getattr(settings, f"retention_{data_class.name}_days") == data_class.default_days
    tables = [a.table for c in CLASSES for a in c.actions if isinstance(a, RawTable)]
    assert len(tables) == len(set(tables))


@pytest.mark.parametrize(("configured", "exempt", "kept"), [
    (395, False, 395), (0, False, 0), (800, True, 395), (0, True, 395), (30, True, 30),
])  # fmt: skip
def test_exempt_mode_caps_every_class_at_13_months(
    configured: int, exempt: bool, kept: int
) -> None:
    from firstmark.domain.retention import BY_NAME, effective_days

    assert effective_days(BY_NAME["hits"], configured, exempt=exempt) == kept


def test_the_retention_table_in_privacy_md_matches_the_classes() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "privacy.md").read_text()
    section = text.split("## Retention", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| ")]
    documented = {cells[0].strip(): (cells[2].strip(), cells[3].strip()) for cells in rows[1:]}
    expected = {}
    for c in CLASSES:
        days = "for ever" if c.default_days == 0 else f"{c.default_days} days"
        days = "1 day" if c.default_days == 1 else days
        setting = f"`FIRSTMARK_RETENTION_{c.name.upper()}_DAYS`" if c.setting else "fixed"
        expected[c.name] = ("48 hours" if c.name == "salts" else days, setting)
    assert documented == expected


async def test_a_second_purge_waits_its_turn(any_store: Store, settings: Settings) -> None:
    if cast(Any, any_store).engine != "postgres":
        assert await retention.purge_exclusive(any_store, settings) is not None
        return
    other = create_store(cast(Any, any_store).url)
    await other.open()
    try:
        async with other.purge_lock() as theirs:
            assert theirs
            assert await retention.purge_exclusive(any_store, settings) is None
        assert await retention.purge_exclusive(any_store, settings) is not None
    finally:
        await other.close()
