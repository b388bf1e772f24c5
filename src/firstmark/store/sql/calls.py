"""Tracking numbers, DNI pools and calls, the same on both engines (rows/calls.py shapes the
rows). Taking and renewing a lease are each engine's: SQLite's one writer and trigger, and
PostgreSQL's FOR UPDATE SKIP LOCKED."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from firstmark.domain.calls import Call, CallEvent, Lease, merge
from firstmark.domain.numbers import Pool, TrackingNumber
from firstmark.errors import NotFound
from firstmark.store.protocol import CallQuery, CallTotal
from firstmark.store.rows.calls import (
    CALL_COLUMNS,
    CALL_MERGED,
    CALL_WRITE,
    LEASE_SELECT,
    NUMBER_COLUMNS,
    NUMBER_WRITE,
    POOL_COLUMNS,
    call_from_row,
    call_params,
    call_where,
    check_first,
    group_columns,
    lease_from_row,
    no_such_link,
    number_from_row,
    number_params,
    number_taken,
    pool_from_row,
    pools_from_rows,
    totals_from_rows,
    totals_sql,
)
from firstmark.store.sql.executor import Conn, SharedSQL, Violation


def _marks(count: int) -> str:
    return ", ".join("?" * count)


_INSERT_NUMBER = (
    f"INSERT INTO numbers (e164, provider, {', '.join(NUMBER_WRITE)}, created_at, updated_at) "
    f"VALUES ({_marks(len(NUMBER_WRITE) + 4)}) RETURNING id"
)
_UPDATE_NUMBER = (
    "UPDATE numbers SET "
    + ", ".join(f"{c} = ?" for c in NUMBER_WRITE)
    + ", updated_at = ? WHERE id = ?"
)
# Pools that are set up, and pools that numbers name without being set up (defaults).
_POOLS = (
    "WITH names AS (SELECT name FROM pools UNION "
    "SELECT pool FROM numbers WHERE pool IS NOT NULL AND released_at IS NULL) "
    "SELECT names.name, p.fallback, p.site_id, p.lease_s, p.created_at, count(n.id), "
    "count(n.id) FILTER (WHERE n.leased_until >= ?) "
    "FROM names LEFT JOIN pools p ON p.name = names.name "
    "LEFT JOIN numbers n ON n.pool = names.name AND n.released_at IS NULL "
    "GROUP BY names.name, p.fallback, p.site_id, p.lease_s, p.created_at"
)
_CALL_BY_KEY = f"SELECT {CALL_COLUMNS} FROM calls WHERE provider = ? AND call_id = ?"
_INSERT_CALL = (
    f"INSERT INTO calls ({', '.join(CALL_WRITE)}, updated_at) "
    f"VALUES ({_marks(len(CALL_WRITE) + 1)}) "
    "ON CONFLICT (provider, call_id) DO NOTHING RETURNING id"
)
_UPDATE_CALL = (
    "UPDATE calls SET "
    + ", ".join(f"{c} = ?" for c in CALL_MERGED)
    + ", updated_at = ? WHERE id = ?"
)


def _refused(exc: Violation, number: TrackingNumber) -> Exception | None:
    """What a number's write refused by a constraint means to the user (None: our bug)."""
    if exc.kind == "foreign_key" and number.link_id is not None:
        return no_such_link(number)
    if exc.unique("numbers", "e164"):
        return number_taken(number)
    return None


class CallSQL(SharedSQL):
    # A call's UTC date (ISO text) from `started`, in the engine's SQL.
    call_day: str

    # --- numbers --------------------------------------------------------------------------

    async def insert_number(self, number: TrackingNumber) -> TrackingNumber:
        now = time.time()
        try:
            rows = await self.db.write(
                _INSERT_NUMBER,
                (number.e164, number.provider, *number_params(number),
                 number.created_at or now, now),
            )  # fmt: skip
        except Violation as exc:
            if (refused := _refused(exc, number)) is None:
                raise
            raise refused from None
        saved = await self.get_number(rows[0][0])
        assert saved is not None
        return saved

    async def update_number(self, number: TrackingNumber) -> TrackingNumber:
        """Save the changeable fields; the E.164 and provider of a number never change."""
        if number.id is None:
            raise NotFound("number has no id")
        try:
            changed = await self.db.execute(
                _UPDATE_NUMBER, (*number_params(number), time.time(), number.id)
            )
        except Violation as exc:
            if (refused := _refused(exc, number)) is None:
                raise
            raise refused from None
        if not changed:
            raise NotFound(f"no number with id {number.id}")
        saved = await self.get_number(number.id)
        assert saved is not None
        return saved

    async def get_number(self, number_id: int) -> TrackingNumber | None:
        row = await self.db.fetchrow(
            f"SELECT {NUMBER_COLUMNS} FROM numbers WHERE id = ?", (number_id,)
        )
        return number_from_row(row) if row else None

    async def number_by_e164(self, e164: str) -> TrackingNumber | None:
        row = await self.db.fetchrow(
            f"SELECT {NUMBER_COLUMNS} FROM numbers WHERE e164 = ? AND released_at IS NULL",
            (e164,),
        )
        return number_from_row(row) if row else None

    async def list_numbers(self, released: bool = False) -> list[TrackingNumber]:
        """Numbers in use, by id; with `released`, the released ones too."""
        where = "" if released else "WHERE released_at IS NULL"
        rows = await self.db.fetch(f"SELECT {NUMBER_COLUMNS} FROM numbers {where} ORDER BY id")
        return [number_from_row(r) for r in rows]

    async def release_number(self, number_id: int, when: float) -> bool:
        """Release a number in use; its leases end at `when` (calls after it are nobody's)."""
        async with self.db.transaction() as tx:
            released = await tx.execute(
                "UPDATE numbers SET released_at = ?, lease_id = NULL, updated_at = ? "
                "WHERE id = ? AND released_at IS NULL",
                (when, time.time(), number_id),
            )
            if not released:
                return False
            await tx.execute(
                "UPDATE number_leases SET expires = ? WHERE number_id = ? AND expires > ?",
                (when, number_id, when),
            )
        return True

    # --- pools and leases -----------------------------------------------------------------

    async def upsert_pool(self, pool: Pool) -> Pool:
        rows = await self.db.write(
            f"INSERT INTO pools ({POOL_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET fallback = excluded.fallback, "
            f"site_id = excluded.site_id, lease_s = excluded.lease_s RETURNING {POOL_COLUMNS}",
            (pool.name, pool.fallback, pool.site_id, pool.lease_s,
             pool.created_at or time.time()),
        )  # fmt: skip
        return pool_from_row(rows[0])

    async def get_pool(self, name: str) -> Pool | None:
        row = await self.db.fetchrow(f"SELECT {POOL_COLUMNS} FROM pools WHERE name = ?", (name,))
        return pool_from_row(row) if row else None

    async def list_pools(self, now: float) -> list[tuple[Pool, int, int]]:
        """Every pool by name, with its numbers in use and how many are leased at `now`; a
        pool that numbers name but nobody set up is listed with the defaults."""
        return pools_from_rows(await self.db.fetch(_POOLS, (now,)))

    async def _lease(self, tx: Conn, lease_id: str) -> Lease:
        """A lease just written in this transaction, as stored."""
        row = await tx.fetchrow(f"{LEASE_SELECT} WHERE l.id = ?", (lease_id,))
        assert row is not None
        return lease_from_row(row)

    async def lease_at(self, number_id: int, ts: float) -> Lease | None:
        """The lease that held the number at `ts`. A number's leases never overlap (the next
        starts after the last expired), so only the latest started by `ts` can hold it: one
        index lookup however long the number's history."""
        row = await self.db.fetchrow(
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
        call and no `first` to store. The call's row is locked first, so concurrent webhooks
        of one call are merged one after another."""
        if first is not None:
            check_first(first, event)
        key = (event.provider, event.call_id)
        locked = _CALL_BY_KEY + self.dialect.for_update
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(locked, key)
            if row is None:
                if first is None:
                    return None, None
                call_id = await tx.fetchval(_INSERT_CALL, (*call_params(first), time.time()))
                if call_id is not None:
                    return replace(first, id=call_id), None
                # Another webhook of this call stored it first: merge into theirs.
                row = await tx.fetchrow(locked, key)
                assert row is not None
            before = call_from_row(row)
            after = merge(before, event)
            if after != before:
                await tx.execute(
                    _UPDATE_CALL,
                    (*(getattr(after, c) for c in CALL_MERGED), time.time(), before.id),
                )
        return after, before

    async def set_call_caller(self, call: Call) -> None:
        """A caller named by a later webhook: fills the caller fields still empty. A call
        that already became a conversion without user data gets it there too, so its outbox
        rows not yet sent carry it (they read the conversion when claimed)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE calls SET caller_hash = coalesce(caller_hash, ?), "
                "caller_last2 = coalesce(caller_last2, ?), "
                "caller_hashed = coalesce(caller_hashed, ?), updated_at = ? WHERE id = ?",
                (call.caller_hash, call.caller_last2, call.caller_hashed, time.time(), call.id),
            )
            if call.conversion_id is not None and call.caller_hashed:
                await tx.execute(
                    "UPDATE conversions SET user_data = ? WHERE id = ? AND user_data = '{}'",
                    (call.caller_hashed, call.conversion_id),
                )

    async def set_call_conversion(self, call_id: int, conversion_id: int) -> None:
        await self.db.execute(
            "UPDATE calls SET conversion_id = ?, updated_at = ? WHERE id = ?",
            (conversion_id, time.time(), call_id),
        )

    async def get_call(self, provider: str, call_id: str) -> Call | None:
        row = await self.db.fetchrow(_CALL_BY_KEY, (provider, call_id))
        return call_from_row(row) if row else None

    async def list_calls(self, query: CallQuery) -> tuple[list[Call], int]:
        """Newest first, with the number of calls matching."""
        where, params = call_where(query, lambda _: "?")
        total = await self.db.fetchval(f"SELECT count(*) FROM calls WHERE {where}", params)
        rows = await self.db.fetch(
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
            among, ids = self.dialect.among("link_id", link_ids)
            where += f" AND {among}"
            params += ids
        rows = await self.db.fetch(totals_sql(columns, self.call_day, where), params)
        return totals_from_rows(rows, columns)
