"""SQLite: tracking numbers, DNI pools and leases, calls (mixed into SQLiteStore).

Taking a lease is one statement and merging a webhook into a call one writer transaction:
SQLite has one writer (across processes too), so two leases can never pick the same number
and two webhooks of one call never merge into the same old row.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

import aiosqlite

from firstmark.domain.calls import Call, CallEvent, Lease, merge
from firstmark.domain.numbers import Pool, TrackingNumber
from firstmark.errors import NotFound
from firstmark.store.protocol import CallQuery, CallTotal
from firstmark.store.rows.calls import (
    CALL_COLUMNS,
    CALL_MERGED,
    CALL_WRITE,
    LEASE_SELECT,
    LEASE_WRITE,
    NUMBER_COLUMNS,
    NUMBER_WRITE,
    POOL_COLUMNS,
    call_from_row,
    call_params,
    call_where,
    check_first,
    group_columns,
    lease_from_row,
    lease_params,
    no_such_link,
    number_from_row,
    number_params,
    number_taken,
    pool_from_row,
    pools_from_rows,
    taken,
    totals_from_rows,
    totals_sql,
)

# A lease on the pool's number free the longest (never leased first), read off the
# numbers_free index; the number_leases_take trigger marks the number leased. One statement.
_TAKE = (
    f"INSERT INTO number_leases (number_id, {', '.join(LEASE_WRITE)}) "
    f"SELECT id, {', '.join('?' * len(LEASE_WRITE))} FROM numbers "
    "WHERE pool = ? AND released_at IS NULL AND leased_until < ? "
    "ORDER BY leased_until, last_leased, id LIMIT 1 "
    "RETURNING number_id, (SELECT e164 FROM numbers n WHERE n.id = number_leases.number_id)"
)
# Pools that are set up, and pools that numbers name without being set up (defaults).
_POOLS = (
    "WITH names AS (SELECT name FROM pools UNION "
    "SELECT pool FROM numbers WHERE pool IS NOT NULL AND released_at IS NULL) "
    "SELECT names.name, p.fallback, p.site_id, p.lease_s, p.created_at, count(n.id), "
    "coalesce(sum(CASE WHEN n.leased_until >= ? THEN 1 ELSE 0 END), 0) "
    "FROM names LEFT JOIN pools p ON p.name = names.name "
    "LEFT JOIN numbers n ON n.pool = names.name AND n.released_at IS NULL "
    "GROUP BY names.name, p.fallback, p.site_id, p.lease_s, p.created_at"
)
_DAY = "date(started, 'unixepoch')"


def _integrity(exc: sqlite3.IntegrityError, number: TrackingNumber) -> Exception:
    if "FOREIGN KEY" in str(exc) and number.link_id is not None:
        return no_such_link(number)
    if "UNIQUE" in str(exc) and "e164" in str(exc):
        return number_taken(number)
    return exc


class SQLiteCalls:
    """Needs the host store's `_transaction`, `_statement`, `_all` and `_one`."""

    def _transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        raise NotImplementedError

    async def _statement(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    # --- numbers --------------------------------------------------------------------------

    async def insert_number(self, number: TrackingNumber) -> TrackingNumber:
        now = time.time()
        try:
            async with self._transaction() as conn:
                cur = await conn.execute(
                    f"INSERT INTO numbers (e164, provider, {', '.join(NUMBER_WRITE)}, "
                    f"created_at, updated_at) VALUES ({', '.join('?' * (len(NUMBER_WRITE) + 4))})",
                    (number.e164, number.provider, *number_params(number),
                     number.created_at or now, now),
                )  # fmt: skip
                number_id = cur.lastrowid
        except sqlite3.IntegrityError as exc:
            raise _integrity(exc, number) from None
        assert number_id is not None
        saved = await self.get_number(number_id)
        assert saved is not None
        return saved

    async def update_number(self, number: TrackingNumber) -> TrackingNumber:
        """Save the changeable fields; the E.164 and provider of a number never change."""
        if number.id is None:
            raise NotFound("number has no id")
        try:
            async with self._transaction() as conn:
                cur = await conn.execute(
                    f"UPDATE numbers SET {' = ?, '.join(NUMBER_WRITE)} = ?, updated_at = ? "
                    "WHERE id = ?",
                    (*number_params(number), time.time(), number.id),
                )
                if cur.rowcount == 0:
                    raise NotFound(f"no number with id {number.id}")
        except sqlite3.IntegrityError as exc:
            raise _integrity(exc, number) from None
        saved = await self.get_number(number.id)
        assert saved is not None
        return saved

    async def get_number(self, number_id: int) -> TrackingNumber | None:
        row = await self._one(f"SELECT {NUMBER_COLUMNS} FROM numbers WHERE id = ?", (number_id,))
        return number_from_row(row) if row else None

    async def number_by_e164(self, e164: str) -> TrackingNumber | None:
        row = await self._one(
            f"SELECT {NUMBER_COLUMNS} FROM numbers WHERE e164 = ? AND released_at IS NULL",
            (e164,),
        )
        return number_from_row(row) if row else None

    async def list_numbers(self, released: bool = False) -> list[TrackingNumber]:
        """Numbers in use, by id; with `released`, the released ones too."""
        where = "" if released else "WHERE released_at IS NULL"
        rows = await self._all(f"SELECT {NUMBER_COLUMNS} FROM numbers {where} ORDER BY id")
        return [number_from_row(r) for r in rows]

    async def release_number(self, number_id: int, when: float) -> bool:
        """Release a number in use; its leases end at `when` (calls after it are nobody's)."""
        async with self._transaction() as conn:
            cur = await conn.execute(
                "UPDATE numbers SET released_at = ?, lease_id = NULL, updated_at = ? "
                "WHERE id = ? AND released_at IS NULL",
                (when, time.time(), number_id),
            )
            if cur.rowcount == 0:
                return False
            await conn.execute(
                "UPDATE number_leases SET expires = ? WHERE number_id = ? AND expires > ?",
                (when, number_id, when),
            )
        return True

    # --- pools and leases -----------------------------------------------------------------

    async def upsert_pool(self, pool: Pool) -> Pool:
        async with self._transaction() as conn:
            await conn.execute(
                f"INSERT INTO pools ({POOL_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET fallback = excluded.fallback, "
                "site_id = excluded.site_id, lease_s = excluded.lease_s",
                (pool.name, pool.fallback, pool.site_id, pool.lease_s,
                 pool.created_at or time.time()),
            )  # fmt: skip
        saved = await self.get_pool(pool.name)
        assert saved is not None
        return saved

    async def get_pool(self, name: str) -> Pool | None:
        row = await self._one(f"SELECT {POOL_COLUMNS} FROM pools WHERE name = ?", (name,))
        return pool_from_row(row) if row else None

    async def list_pools(self, now: float) -> list[tuple[Pool, int, int]]:
        """Every pool by name, with its numbers in use and how many are leased at `now`; a
        pool that numbers name but nobody set up is listed with the defaults."""
        rows = await self._all(_POOLS, (now,))
        return pools_from_rows(rows)

    async def take_lease(self, lease: Lease, now: float) -> Lease | None:
        """The pool's number free the longest, leased until lease.expires; None when every
        number of the pool is leased (or it has none)."""
        rows = await self._statement(_TAKE, (*lease_params(lease), lease.pool, now))
        if not rows:
            return None
        number_id, e164 = rows[0]
        return taken(lease, number_id, e164)

    async def renew_lease(self, lease_id: str, now: float, expires: float) -> Lease | None:
        """Extend a lease that still holds its number; None when it is unknown or over."""
        async with self._transaction() as conn:
            held = list(
                await conn.execute_fetchall(
                    "UPDATE numbers SET leased_until = max(leased_until, ?) "
                    "WHERE id = (SELECT number_id FROM number_leases WHERE id = ?) "
                    "AND lease_id = ? AND leased_until >= ? AND released_at IS NULL "
                    "RETURNING id",
                    (expires, lease_id, lease_id, now),
                )
            )
            if not held:
                return None
            await conn.execute(
                "UPDATE number_leases SET expires = max(expires, ?) WHERE id = ?",
                (expires, lease_id),
            )
            rows = list(await conn.execute_fetchall(f"{LEASE_SELECT} WHERE l.id = ?", (lease_id,)))
        return lease_from_row(rows[0])

    async def lease_at(self, number_id: int, ts: float) -> Lease | None:
        """The lease that held the number at `ts`. A number's leases never overlap (the next
        starts after the last expired), so only the latest started by `ts` can hold it: one
        index lookup however long the number's history."""
        row = await self._one(
            f"{LEASE_SELECT} WHERE l.number_id = ? AND l.started <= ? "
            "ORDER BY l.started DESC LIMIT 1",
            (number_id, ts),
        )
        lease = lease_from_row(row) if row else None
        return lease if lease is not None and lease.expires >= ts else None

    # --- calls ----------------------------------------------------------------------------

    async def apply_call(
        self, first: Call | None, event: CallEvent
    ) -> tuple[Call | None, Call | None]:
        """Merge a webhook into its stored call, or store `first` when there is none yet.
        Returns (after, before); before is None for a new call, both None when there was no
        call and no `first` to store."""
        if first is not None:
            check_first(first, event)
        async with self._transaction() as conn:
            rows = list(
                await conn.execute_fetchall(
                    f"SELECT {CALL_COLUMNS} FROM calls WHERE provider = ? AND call_id = ?",
                    (event.provider, event.call_id),
                )
            )
            if not rows:
                if first is None:
                    return None, None
                cur = await conn.execute(
                    f"INSERT INTO calls ({', '.join(CALL_WRITE)}, updated_at) "
                    f"VALUES ({', '.join('?' * (len(CALL_WRITE) + 1))})",
                    (*call_params(first), time.time()),
                )
                return replace(first, id=cur.lastrowid), None
            before = call_from_row(rows[0])
            after = merge(before, event)
            if after != before:
                await conn.execute(
                    f"UPDATE calls SET {' = ?, '.join(CALL_MERGED)} = ?, updated_at = ? "
                    "WHERE id = ?",
                    (*(getattr(after, c) for c in CALL_MERGED), time.time(), before.id),
                )
        return after, before

    async def set_call_conversion(self, call_id: int, conversion_id: int) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE calls SET conversion_id = ?, updated_at = ? WHERE id = ?",
                (conversion_id, time.time(), call_id),
            )

    async def get_call(self, provider: str, call_id: str) -> Call | None:
        row = await self._one(
            f"SELECT {CALL_COLUMNS} FROM calls WHERE provider = ? AND call_id = ?",
            (provider, call_id),
        )
        return call_from_row(row) if row else None

    async def list_calls(self, query: CallQuery) -> tuple[list[Call], int]:
        """Newest first, with the number of calls matching."""
        where, params = call_where(query, lambda _: "?")
        total = (await self._one(f"SELECT count(*) FROM calls WHERE {where}", params))[0]
        rows = await self._all(
            f"SELECT {CALL_COLUMNS} FROM calls WHERE {where} "
            "ORDER BY started DESC, id DESC LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
        return [call_from_row(r) for r in rows], int(total)

    async def call_totals(
        self,
        group_by: str | tuple[str, ...],
        start: float,
        end: float,
        link_ids: Sequence[int] | None = None,
    ) -> list[CallTotal]:
        """Calls started in [start, end) by one or more of CALL_GROUP_COLUMNS; only calls of
        `link_ids` when given."""
        columns = group_columns(group_by)
        where, params = "started >= ? AND started < ?", [start, end]
        if link_ids is not None:
            if not link_ids:
                return []
            where += f" AND link_id IN ({', '.join('?' * len(link_ids))})"
            params += list(link_ids)
        rows = await self._all(totals_sql(columns, _DAY, where), params)
        return totals_from_rows(rows, columns)
