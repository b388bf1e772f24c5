"""The executor the shared SQL runs on: PostgreSQL's placeholders, constraint violations in
words both engines share, and the dialect's spellings."""

from __future__ import annotations

import sqlite3

import pytest

from firstmark.domain.keys import ApiKey
from firstmark.domain.links import Link
from firstmark.store.postgres.executor import POSTGRES, dollar, rowcount
from firstmark.store.protocol import Store
from firstmark.store.sql.executor import Violation
from firstmark.store.sqlite.executor import SQLITE, violation


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"),
        ("WHERE id = ANY(?::bigint[])", "WHERE id = ANY($1::bigint[])"),
        (
            "WHERE code LIKE ? ESCAPE '\\' OR x LIKE ?",
            "WHERE code LIKE $1 ESCAPE '\\' OR x LIKE $2",
        ),
        ("SELECT 'why?', ?", "SELECT 'why?', $1"),
        ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"),
        ('SELECT "odd?name", ?', 'SELECT "odd?name", $1'),
        ("SELECT $1, $1 + $2", "SELECT $1, $1 + $2"),  # PostgreSQL's own text stays
        ("SELECT 1", "SELECT 1"),
    ],
)
def test_placeholders_are_numbered_outside_quotes(sql: str, expected: str) -> None:
    assert dollar(sql) == expected


@pytest.mark.parametrize(
    ("status", "count"), [("UPDATE 3", 3), ("INSERT 0 1", 1), ("DELETE 0", 0), ("LOCK TABLE", 0)]
)
def test_a_status_gives_its_row_count(status: str, count: int) -> None:
    assert rowcount(status) == count


@pytest.mark.parametrize(
    ("message", "kind", "table", "columns"),
    [
        (
            "UNIQUE constraint failed: links.domain, links.code",
            "unique",
            "links",
            ("domain", "code"),
        ),
        ("UNIQUE constraint failed: numbers.e164", "unique", "numbers", ("e164",)),
        ("FOREIGN KEY constraint failed", "foreign_key", None, ()),
    ],
)
def test_sqlite_violations_in_shared_words(
    message: str, kind: str, table: str | None, columns: tuple[str, ...]
) -> None:
    found = violation(sqlite3.IntegrityError(message))
    assert found is not None
    assert (found.kind, found.table, found.columns) == (kind, table, columns)


def test_other_sqlite_integrity_errors_stay_the_drivers() -> None:
    assert violation(sqlite3.IntegrityError("NOT NULL constraint failed: links.code")) is None


def test_ids_bind_as_one_array_or_a_placeholder_each() -> None:
    assert POSTGRES.among("link_id", [3, 1, 2]) == ("link_id = ANY(?::bigint[])", [[3, 1, 2]])
    assert SQLITE.among("link_id", [3, 1, 2]) == ("link_id IN (?, ?, ?)", [3, 1, 2])
    assert SQLITE.among("link_id", []) == ("link_id IN ()", [])


async def test_a_unique_violation_names_its_table_and_columns(any_store: Store) -> None:
    key = ApiKey(prefix="fm_dup", hash="h", scopes=("admin",))
    await any_store.insert_api_key(key)
    with pytest.raises(Violation) as raised:
        await any_store.insert_api_key(key)
    assert raised.value.unique("api_keys", "prefix")
    assert not raised.value.unique("api_keys", "hash")


async def test_a_missing_reference_is_a_foreign_key_violation(any_store: Store) -> None:
    link = await any_store.insert_link(Link(domain="", code="fk", destination="https://x.example/"))
    assert link.id is not None
    db = any_store.db  # type: ignore[attr-defined]
    with pytest.raises(Violation) as raised:
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO link_tags (tag, link_id) VALUES (?, ?)", ("t", link.id + 1000)
            )
    assert raised.value.kind == "foreign_key"
    assert await any_store.get_link(link.id) == link
