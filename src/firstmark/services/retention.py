"""Retention: the purge of every data class (domain/retention.py), the daily job that runs it
on one node, the salt timer, and the summary the Privacy page shows."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from firstmark.config import Settings
from firstmark.domain import retention, visitors
from firstmark.domain.retention import CLASSES, DataClass, RawTable
from firstmark.services import audit
from firstmark.store import Store

log = logging.getLogger("firstmark.retention")

PARTITIONED = ("hits", "events", "visits")  # by month on PostgreSQL (migration 0019)
DAILY = 86_400.0
RERUN_AFTER = 20 * 3600.0  # a restarted node does not purge again the same day


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    days: int  # 0: kept for ever, nothing purged
    rows: int  # purged (or, in a dry run, that would be)


def days_of(data_class: DataClass, settings: Settings) -> int:
    configured = data_class.default_days
    if data_class.setting:
        configured = int(getattr(settings, retention.setting_name(data_class.name)))
    return retention.effective_days(
        data_class, configured, exempt=settings.privacy_mode == "exempt"
    )


async def purge(
    store: Store,
    settings: Settings,
    *,
    dry_run: bool = False,
    now: float | None = None,
    progress: Callable[[str, int], None] | None = None,
    actor: str = "system",
) -> list[Outcome]:
    """Purge every class past its retention (a dry run only counts); tables the database
    lacks are skipped. Each class's result is recorded for `summary`, and the purge in the
    audit log (`purge` of `retention`, the rows per class) by `actor`: `system` for the daily
    job, `cli` for `firstmark purge`."""
    now = time.time() if now is None else now
    if not dry_run:
        await store.ensure_partitions(now)
    outcomes = []
    for data_class in CLASSES:
        days = days_of(data_class, settings)
        rows = 0
        for action in data_class.actions if days else ():
            cut = retention.cutoff(now, days, action)
            if cut is None or not await store.has_table(action.table):
                continue
            if dry_run:
                rows += await store.retention_count(action, cut)
                continue
            if isinstance(action, RawTable) and action.table in PARTITIONED:
                rows += await store.drop_old_partitions(action.table, cut)
            while True:
                taken = await store.retention_batch(action, cut, settings.purge_batch)
                rows += taken
                if progress is not None and taken:
                    progress(data_class.name, rows)
                if taken < settings.purge_batch:
                    break
                await asyncio.sleep(0)  # let the writers in between batches
            if action.table == "attribution_credits":
                # The report reads their daily rollup: it forgets what the credits did.
                await store.forget_credit_days(cut)
        if not dry_run:
            await store.record_purge(data_class.name, days, now, rows)
        outcomes.append(Outcome(data_class.name, days, rows))
    if not dry_run:
        detail = {o.name: o.rows for o in outcomes}
        await audit.record(store, actor, "purge", "retention", None, detail)
    return outcomes


async def purge_exclusive(
    store: Store,
    settings: Settings,
    *,
    progress: Callable[[str, int], None] | None = None,
) -> list[Outcome] | None:
    """Purge now under the purge lock (`firstmark purge`); None when another node or
    process is purging."""
    async with store.purge_lock() as mine:
        if not mine:
            return None
        return await purge(store, settings, progress=progress, actor="cli")


async def summary(store: Store, settings: Settings) -> dict[str, dict[str, object]]:
    """The retention in force, per class: {"days": N (0: for ever), "last_purge": epoch
    seconds or None, "deleted": rows the last purge took}."""
    last = await store.last_purges()
    out: dict[str, dict[str, object]] = {}
    for data_class in CLASSES:
        ran_at, deleted = last.get(data_class.name, (None, 0))
        out[data_class.name] = {
            "days": days_of(data_class, settings),
            "last_purge": ran_at,
            "deleted": deleted,
        }
    return out


async def run_daily(store: Store, settings: Settings) -> None:
    """The background job of `firstmark serve`: after the start delay, purge once a day on
    whichever node holds the purge lock and finds no purge in the last 20 hours."""
    await asyncio.sleep(settings.purge_start_delay_s)
    while True:
        try:
            await purge_if_due(store, settings)
        except Exception:
            log.exception("retention purge failed")
        await asyncio.sleep(DAILY)


async def purge_if_due(store: Store, settings: Settings, now: float | None = None) -> bool:
    """Purge unless another node is purging or a purge ran recently; whether it purged."""
    now = time.time() if now is None else now
    async with store.purge_lock() as mine:
        if not mine:
            return False
        last = await store.last_purges()
        if last and now - max(ran for ran, _ in last.values()) < RERUN_AFTER:
            return False
        done = await purge(store, settings, now=now)
    log.info("retention purge: %s", ", ".join(f"{o.name} {o.rows}" for o in done))
    return True


async def forget_old_salts(store: Store, now: float | None = None) -> int:
    """Delete the salts (and per-day visitor rows) past their 48 hours."""
    now = time.time() if now is None else now
    return await store.forget_salts(visitors.first_kept_day(visitors.day_of(now)))


async def run_salt_timer(store: Store) -> None:
    """On every node, at start and just after each UTC midnight: forget the salts whose 48
    hours are over, whether or not anything is written that day; and make sure the coming
    months have their partitions (PostgreSQL), even where the purge is turned off."""
    while True:
        try:
            await forget_old_salts(store)
            await store.ensure_partitions(time.time())
        except Exception:
            log.exception("forgetting old salts failed")
        now = time.time()
        await asyncio.sleep(DAILY - now % DAILY + 1.0)
