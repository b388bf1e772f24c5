"""PostgreSQL: hits, events and visits partitioned by month, for an install that already has
rows (migration 0019), and a purge that drops whole months."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import asyncpg

from firstmark.config import Settings
from firstmark.services import retention
from firstmark.store import schema
from firstmark.store.postgres.store import PostgresStore

DAY = 86_400.0


def ts(year: int, month: int, day: int) -> float:
    return datetime(year, month, day, 12, tzinfo=UTC).timestamp()


async def _up_to(url: str, version: int) -> None:
    """Apply the migrations before `version`, as an install of that time had them."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at BIGINT NOT NULL)"
        )
        for m in schema.load("postgres"):
            if m.version >= version:
                break
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations VALUES ($1, $2, 0)", m.version, m.name
                )
    finally:
        await conn.close()


async def _seed(conn: asyncpg.Connection, times: list[float]) -> None:
    for when in times:
        await conn.execute(
            "INSERT INTO hits (link_id, ts, kind, visitor_day_hash, dims_id) "
            "VALUES (1, $1, 'click', 'h', 1)",
            when,
        )
        await conn.execute(
            "INSERT INTO events (site_id, ts, kind, name, path, visitor_day_hash, consent) "
            "VALUES (1, $1, 'pageview', 'pageview', '/', 'h', 'none')",
            when,
        )
        await conn.execute(
            "INSERT INTO visits (site_id, key, started, last_ts, day, visitor_day_hash, "
            "entry_path, exit_path, source, medium, channel) "
            "VALUES (1, $2, $1, $1, 0, 'h', '/', '/', '(direct)', '(none)', 'Direct')",
            when,
            f"h:{when}",
        )


async def _partitions(conn: asyncpg.Connection, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = $1::regclass ORDER BY 1",
        table,
    )
    return [r[0] for r in rows]


async def test_an_install_with_data_is_partitioned_by_month_and_keeps_every_row(
    pg_url: str,
) -> None:
    await _up_to(pg_url, 19)
    times = [ts(2025, 1, 5), ts(2025, 1, 20), ts(2025, 3, 1), time.time()]
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute("INSERT INTO hit_dims (id, key) VALUES (1, 'desktop')")
        await _seed(conn, times)
        ids = [r[0] for r in await conn.fetch("SELECT id FROM events ORDER BY id")]
    finally:
        await conn.close()

    store = PostgresStore(pg_url)
    await store.open()
    try:
        assert await store.migrate() == ["0019_monthly_partitions"]
        conn = await asyncpg.connect(pg_url)
        try:
            for table in ("hits", "events", "visits"):
                parts = await _partitions(conn, table)
                assert f"{table}_p202501" in parts and f"{table}_p202503" in parts
                assert f"{table}_default" in parts
                assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 4
                assert await conn.fetchval(f"SELECT count(*) FROM {table}_p202501") == 2
            assert [r[0] for r in await conn.fetch("SELECT id FROM events ORDER BY id")] == ids
            # New rows get new ids after the copied ones, and land in their month.
            await _seed(conn, [time.time()])
            assert await conn.fetchval("SELECT max(id) FROM events") == ids[-1] + 1
            assert await conn.fetchval("SELECT count(*) FROM events_default") == 0
            assert await conn.fetchval("SELECT count(*) FROM hit_details") == 5
        finally:
            await conn.close()
    finally:
        await store.close()


async def test_the_purge_drops_whole_months_and_deletes_the_rest(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    await store.open()
    await store.migrate()
    now = time.time()
    old = [now - 800 * DAY, now - 700 * DAY, now - 396 * DAY, now - 10 * DAY]
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(
            "SELECT firstmark_month_partitions(t, $1, $2) FROM unnest($3::text[]) t",
            now - 800 * DAY,
            now,
            ["hits", "events", "visits"],
        )
        await _seed(conn, old)
        before = await _partitions(conn, "hits")
        done = {o.name: o.rows for o in await retention.purge(store, Settings(), now=now)}
        after = await _partitions(conn, "hits")
        assert done["hits"] == done["events"] == done["visits"] == 3
        for table in ("hits", "events", "visits"):
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 1
        gone = set(before) - set(after)
        # Every month that ended before the cutoff is gone, the month holding it is not.
        assert len(gone) >= 12 and all(p.startswith("hits_p") for p in gone)
        cutoff = datetime.fromtimestamp(now - 395 * DAY, UTC)
        assert f"hits_p{cutoff:%Y%m}" in after
        ahead = datetime.fromtimestamp(now + 40 * DAY, UTC)
        assert f"hits_p{ahead:%Y%m}" in after  # months ahead are made by the purge
    finally:
        await conn.close()
        await store.close()
