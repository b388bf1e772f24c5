"""PostgreSQL specifics: the same schema as SQLite, a layout ready for distribution, one
migration run among nodes starting together, and clear errors for a database that is not there."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import asyncpg
import pytest
from test_migrations import EXPECTED, MIGRATIONS

from firstmark.domain.links import Link
from firstmark.domain.placements import Draft, Placement, placement_link
from firstmark.domain.schedules import Schedule
from firstmark.errors import StoreUnavailable
from firstmark.store.postgres.store import PostgresStore, redact
from firstmark.store.protocol import Domain

HOT_TABLES = ("hits", "hit_visitors", "rollup_hourly", "rollup_daily", "rollup_day")
EVENT_TABLES = ("events", "touches")


async def _columns(url: str) -> dict[str, list[str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name IN "
            "(SELECT table_name FROM information_schema.tables "
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE') "
            # Monthly partitions (hits_p202612, ...) are the engine's storage, not the schema.
            "AND table_name NOT IN (SELECT relname FROM pg_class WHERE relispartition) "
            "ORDER BY table_name, ordinal_position"
        )
    finally:
        await conn.close()
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row[1])
    return out


async def test_migrations_reach_the_sqlite_schema_once(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    await store.open()
    try:
        assert await store.pending_migrations() == MIGRATIONS
        assert await store.migrate() == MIGRATIONS
        assert await store.migrate() == []
        assert await store.pending_migrations() == []
    finally:
        await store.close()
    assert await _columns(pg_url) == EXPECTED


async def test_nodes_starting_together_migrate_once(pg_url: str) -> None:
    stores = [PostgresStore(pg_url) for _ in range(3)]
    for store in stores:
        await store.open()
    try:
        results = await asyncio.gather(*(s.migrate() for s in stores))
    finally:
        for store in stores:
            await store.close()
    assert sorted(results, key=len) == [[], [], MIGRATIONS]


async def test_hot_tables_are_distributable_by_link(pg_url: str) -> None:
    """Keys of hot tables start with link_id, nothing references them or is referenced by
    them (nor the event tables), and hits carry only a BRIN index (no per-click B-tree)."""
    store = PostgresStore(pg_url)
    await store.open()
    await store.migrate()
    await store.close()
    conn = await asyncpg.connect(pg_url)
    try:
        for table in HOT_TABLES:
            fks = await conn.fetchval(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                "AND (conrelid = $1::regclass OR confrelid = $1::regclass)",
                table,
            )
            assert fks == 0, table
            pk = await conn.fetchval(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'p' AND conrelid = $1::regclass",
                table,
            )
            assert pk is None or pk.startswith("PRIMARY KEY (link_id"), (table, pk)
        for table in EVENT_TABLES:  # distributable too (by site or visitor): no foreign keys
            fks = await conn.fetchval(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                "AND (conrelid = $1::regclass OR confrelid = $1::regclass)",
                table,
            )
            assert fks == 0, table
        methods = await conn.fetch(
            "SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam WHERE i.indrelid = 'hits'::regclass"
        )
        assert [m[0] for m in methods] == ["brin"]
    finally:
        await conn.close()


async def test_an_unreachable_server_is_retried_then_one_clear_line() -> None:
    url = "postgresql://postgres:secret@127.0.0.1:9/firstmark"  # port 9: nothing listens
    store = PostgresStore(url, startup_wait=0.7)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        await store.open()
    elapsed = time.monotonic() - started
    assert 0.5 < elapsed < 3  # it retried (0.2 + 0.4 s of backoff) before giving up
    message = caught.value.message
    assert "\n" not in message and "secret" not in message
    assert message.startswith("cannot use the database postgresql://postgres:***@127.0.0.1:9/")


def test_redact_hides_only_the_password() -> None:
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact("postgresql://h/db") == "postgresql://h/db"


async def _heard(heard: list[tuple[str, str]], want: set[tuple[str, str]]) -> None:
    deadline = time.monotonic() + 5.0
    while not want <= set(heard):
        assert time.monotonic() < deadline, (heard, want)
        await asyncio.sleep(0.02)


async def test_qr_edits_notify_the_codes_they_redirect(pg_url: str) -> None:
    """Other nodes cache a code's target with its event schedule applied: placements synced to
    their parent, and schedules set or removed, notify the parent's and every placement's code."""
    editor, other = PostgresStore(pg_url), PostgresStore(pg_url)
    await editor.open()
    await editor.migrate()
    await other.open()
    heard: list[tuple[str, str]] = []
    try:
        await other.watch_changes(lambda kind, key: heard.append((kind, key)))
        # The listening connection is up once a probe edit is heard.
        deadline = time.monotonic() + 5.0
        while ("domain", "probe.example") not in heard:
            assert time.monotonic() < deadline, "LISTEN never started"
            await editor.upsert_domain(Domain("probe.example", None))
            await asyncio.sleep(0.05)
        heard.clear()
        parent = await editor.insert_link(Link(destination="https://a.example/", code="fair"))
        assert parent.id is not None
        lonely = await editor.insert_link(Link(destination="https://b.example/", code="lonely"))
        draft = Draft(Placement(parent_id=parent.id, name="Gate"), "gate")
        await editor.insert_placements(
            [(placement_link(parent, draft, datetime.now(UTC)), draft.placement)]
        )
        await _heard(heard, {("link", "gate")})  # a node may have cached it as missing
        family = {("link", "fair"), ("link", "gate")}
        heard.clear()
        await editor.sync_placements(parent)
        await _heard(heard, {("link", "gate")})
        heard.clear()
        start = datetime(2026, 1, 1, tzinfo=UTC)
        await editor.set_schedule(Schedule(parent.id, start, datetime(2026, 1, 2, tzinfo=UTC)))
        await _heard(heard, family)
        heard.clear()
        assert await editor.delete_schedule(parent.id) is True
        await _heard(heard, family)
        heard.clear()
        await editor.sync_placements(lonely)  # no placements: nothing to tell
        assert await editor.delete_schedule(parent.id) is False
        await asyncio.sleep(0.2)
        assert heard == []
    finally:
        await editor.close()
        await other.close()
