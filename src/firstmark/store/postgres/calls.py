"""PostgreSQL: tracking numbers, DNI pools and leases, calls (mixed into PostgresStore).

The methods of sqlite_calls.py with the same row helpers (callrows.py). Any number of nodes
lease from one pool at once: a lease is one statement that picks the pool's first free number
`FOR UPDATE SKIP LOCKED` (a number another node is taking is passed by, not waited for; one
that node has just taken fails the recheck), marks it and writes the lease row. A webhook locks
its call's row before merging, so concurrent webhooks of one call are merged one after another.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

import asyncpg

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

_N = len(NUMBER_WRITE)
_INSERT_NUMBER = (
    f"INSERT INTO numbers (e164, provider, {', '.join(NUMBER_WRITE)}, created_at, updated_at) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, _N + 5))}) RETURNING id"
)
_UPDATE_NUMBER = (
    "UPDATE numbers SET "
    + ", ".join(f"{c} = ${i}" for i, c in enumerate(NUMBER_WRITE, 1))
    + f", updated_at = ${_N + 1} WHERE id = ${_N + 2}"
)
# $1 expires, $2 now, $3 pool, then the lease's LEASE_WRITE values from $4 on (its id first);
# its number_id is the number taken. The CTEs run whole even when nothing is picked.
_TAKE = (
    "WITH picked AS (SELECT id FROM numbers WHERE pool = $3 AND released_at IS NULL "
    "AND leased_until < $2 ORDER BY leased_until, last_leased, id LIMIT 1 "
    "FOR UPDATE SKIP LOCKED), "
    "took AS (UPDATE numbers n SET leased_until = $1, last_leased = $2, lease_id = $4 "
    "FROM picked WHERE n.id = picked.id RETURNING n.id, n.e164), "
    f"lease AS (INSERT INTO number_leases (number_id, {', '.join(LEASE_WRITE)}) "
    "SELECT took.id, "
    + ", ".join(f"${i}" for i in range(4, len(LEASE_WRITE) + 4))
    + " FROM took) SELECT id, e164 FROM took"
)
# A lease still holding its number ($1 id, $2 now, $3 new end): both ends move, never back.
_RENEW = (
    "WITH held AS (UPDATE numbers SET leased_until = greatest(leased_until, $3) "
    "WHERE id = (SELECT number_id FROM number_leases WHERE id = $1) AND lease_id = $1 "
    "AND leased_until >= $2 AND released_at IS NULL RETURNING id) "
    "UPDATE number_leases l SET expires = greatest(l.expires, $3) FROM held "
    "WHERE l.id = $1 AND l.number_id = held.id RETURNING l.id"
)
_POOLS = (
    "WITH names AS (SELECT name FROM pools UNION "
    "SELECT pool FROM numbers WHERE pool IS NOT NULL AND released_at IS NULL) "
    "SELECT names.name, p.fallback, p.site_id, p.lease_s, p.created_at, count(n.id), "
    "count(n.id) FILTER (WHERE n.leased_until >= $1) "
    "FROM names LEFT JOIN pools p ON p.name = names.name "
    "LEFT JOIN numbers n ON n.pool = names.name AND n.released_at IS NULL "
    "GROUP BY names.name, p.fallback, p.site_id, p.lease_s, p.created_at"
)
_CALL_BY_KEY = f"SELECT {CALL_COLUMNS} FROM calls WHERE provider = $1 AND call_id = $2"
_INSERT_CALL = (
    f"INSERT INTO calls ({', '.join(CALL_WRITE)}, updated_at) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(CALL_WRITE) + 2))}) "
    "ON CONFLICT (provider, call_id) DO NOTHING RETURNING id"
)
_UPDATE_CALL = (
    "UPDATE calls SET "
    + ", ".join(f"{c} = ${i}" for i, c in enumerate(CALL_MERGED, 1))
    + f", updated_at = ${len(CALL_MERGED) + 1} WHERE id = ${len(CALL_MERGED) + 2}"
)
_DAY = "to_char(to_timestamp(started) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def _count(status: str) -> int:
    """asyncpg answers 'UPDATE 3'; the last word is the row count."""
    return int(status.rsplit(" ", 1)[-1])


class PostgresCalls:
    """Needs the host store's `_transaction`, `_all`, `_one` and `_value`."""

    def _transaction(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        raise NotImplementedError

    async def _all(self, sql: str, *args: Any) -> list[Any]:
        raise NotImplementedError

    async def _one(self, sql: str, *args: Any) -> Any:
        raise NotImplementedError

    async def _value(self, sql: str, *args: Any) -> Any:
        raise NotImplementedError

    # --- numbers --------------------------------------------------------------------------

    async def insert_number(self, number: TrackingNumber) -> TrackingNumber:
        now = time.time()
        try:
            number_id = await self._value(
                _INSERT_NUMBER, number.e164, number.provider, *number_params(number),
                number.created_at or now, now,
            )  # fmt: skip
        except asyncpg.UniqueViolationError:
            raise number_taken(number) from None
        except asyncpg.ForeignKeyViolationError:
            raise no_such_link(number) from None
        saved = await self.get_number(number_id)
        assert saved is not None
        return saved

    async def update_number(self, number: TrackingNumber) -> TrackingNumber:
        """Save the changeable fields; the E.164 and provider of a number never change."""
        if number.id is None:
            raise NotFound("number has no id")
        try:
            async with self._transaction() as conn:
                status = await conn.execute(
                    _UPDATE_NUMBER, *number_params(number), time.time(), number.id
                )
        except asyncpg.ForeignKeyViolationError:
            raise no_such_link(number) from None
        if _count(status) == 0:
            raise NotFound(f"no number with id {number.id}")
        saved = await self.get_number(number.id)
        assert saved is not None
        return saved

    async def get_number(self, number_id: int) -> TrackingNumber | None:
        row = await self._one(f"SELECT {NUMBER_COLUMNS} FROM numbers WHERE id = $1", number_id)
        return number_from_row(row) if row else None

    async def number_by_e164(self, e164: str) -> TrackingNumber | None:
        row = await self._one(
            f"SELECT {NUMBER_COLUMNS} FROM numbers WHERE e164 = $1 AND released_at IS NULL", e164
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
            status = await conn.execute(
                "UPDATE numbers SET released_at = $1, lease_id = NULL, updated_at = $2 "
                "WHERE id = $3 AND released_at IS NULL",
                when,
                time.time(),
                number_id,
            )
            if _count(status) == 0:
                return False
            await conn.execute(
                "UPDATE number_leases SET expires = $1 WHERE number_id = $2 AND expires > $1",
                when,
                number_id,
            )
        return True

    # --- pools and leases -----------------------------------------------------------------

    async def upsert_pool(self, pool: Pool) -> Pool:
        row = await self._one(
            f"INSERT INTO pools ({POOL_COLUMNS}) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (name) DO UPDATE SET fallback = excluded.fallback, "
            f"site_id = excluded.site_id, lease_s = excluded.lease_s RETURNING {POOL_COLUMNS}",
            pool.name, pool.fallback, pool.site_id, pool.lease_s, pool.created_at or time.time(),
        )  # fmt: skip
        return pool_from_row(row)

    async def get_pool(self, name: str) -> Pool | None:
        row = await self._one(f"SELECT {POOL_COLUMNS} FROM pools WHERE name = $1", name)
        return pool_from_row(row) if row else None

    async def list_pools(self, now: float) -> list[tuple[Pool, int, int]]:
        """Every pool by name, with its numbers in use and how many are leased at `now`; a
        pool that numbers name but nobody set up is listed with the defaults."""
        rows = await self._all(_POOLS, now)
        return pools_from_rows(rows)

    async def take_lease(self, lease: Lease, now: float) -> Lease | None:
        """The pool's number free the longest, leased until lease.expires; None when every
        number of the pool is leased (or it has none). One statement, one round trip."""
        row = await self._one(_TAKE, lease.expires, now, lease.pool, *lease_params(lease))
        return taken(lease, row[0], row[1]) if row else None

    async def renew_lease(self, lease_id: str, now: float, expires: float) -> Lease | None:
        """Extend a lease that still holds its number; None when it is unknown or over."""
        async with self._transaction() as conn:
            if await conn.fetchval(_RENEW, lease_id, now, expires) is None:
                return None
            row = await conn.fetchrow(f"{LEASE_SELECT} WHERE l.id = $1", lease_id)
        return lease_from_row(row)

    async def lease_at(self, number_id: int, ts: float) -> Lease | None:
        """The lease that held the number at `ts`. A number's leases never overlap (the next
        starts after the last expired), so only the latest started by `ts` can hold it: one
        index lookup however long the number's history."""
        row = await self._one(
            f"{LEASE_SELECT} WHERE l.number_id = $1 AND l.started <= $2 "
            "ORDER BY l.started DESC LIMIT 1",
            number_id,
            ts,
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
        key = (event.provider, event.call_id)
        async with self._transaction() as conn:
            row = await conn.fetchrow(f"{_CALL_BY_KEY} FOR UPDATE", *key)
            if row is None:
                if first is None:
                    return None, None
                call_id = await conn.fetchval(_INSERT_CALL, *call_params(first), time.time())
                if call_id is not None:
                    return replace(first, id=call_id), None
                # Another webhook of this call stored it first: merge into theirs.
                row = await conn.fetchrow(f"{_CALL_BY_KEY} FOR UPDATE", *key)
            before = call_from_row(row)
            after = merge(before, event)
            if after != before:
                await conn.execute(
                    _UPDATE_CALL, *(getattr(after, c) for c in CALL_MERGED), time.time(), before.id
                )
        return after, before

    async def set_call_conversion(self, call_id: int, conversion_id: int) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE calls SET conversion_id = $1, updated_at = $2 WHERE id = $3",
                conversion_id,
                time.time(),
                call_id,
            )

    async def get_call(self, provider: str, call_id: str) -> Call | None:
        row = await self._one(_CALL_BY_KEY, provider, call_id)
        return call_from_row(row) if row else None

    async def list_calls(self, query: CallQuery) -> tuple[list[Call], int]:
        """Newest first, with the number of calls matching."""
        where, params = call_where(query, lambda n: f"${n}")
        total = await self._value(f"SELECT count(*) FROM calls WHERE {where}", *params)
        n = len(params)
        rows = await self._all(
            f"SELECT {CALL_COLUMNS} FROM calls WHERE {where} "
            f"ORDER BY started DESC, id DESC LIMIT ${n + 1} OFFSET ${n + 2}",
            *params,
            query.limit,
            query.offset,
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
        if link_ids is not None and not link_ids:
            return []
        where = "started >= $1 AND started < $2 AND ($3::bigint[] IS NULL OR link_id = ANY($3))"
        rows = await self._all(
            totals_sql(columns, _DAY, where),
            start,
            end,
            None if link_ids is None else list(link_ids),
        )
        return totals_from_rows(rows, columns)
