"""PostgreSQL: destinations, the forwarding outbox and the delivery log (mixed into
PostgresStore).

The statements of sqlite_outbox.py with the same row helpers (outboxrows.py). A claim selects
due rows `FOR UPDATE SKIP LOCKED`, like `pg_jobs.claim`: any number of workers on any number
of nodes can claim at once, each row goes to one of them, and the others pass it by instead of
waiting. Times written here come from the database clock, so leases hold whatever the nodes'
clocks say; an explicit `now` (tests, a worker with its own clock) is taken as given.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import Attempt, Delivery, Destination, OutboxItem, OutboxTarget
from firstmark.errors import NotFound
from firstmark.store.postgres.jobs import NOW
from firstmark.store.rows.outbox import (
    DELIVERY_SELECT,
    DESTINATION_COLUMNS,
    DESTINATION_WRITE,
    ITEM_SELECT,
    click_ids_json,
    counts_from_rows,
    delivery_from_row,
    destination_from_row,
    destination_params,
    item_from_row,
    name_taken,
)
from firstmark.store.sql.executor import Conn

_N = len(DESTINATION_WRITE)
_INSERT_DESTINATION = (
    f"INSERT INTO destinations ({', '.join(DESTINATION_WRITE)}, created_at, updated_at) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, _N + 3))}) RETURNING id"
)
_UPDATE_DESTINATION = (
    "UPDATE destinations SET "
    + ", ".join(f"{c} = ${i}" for i, c in enumerate(DESTINATION_WRITE, 1))
    + f", updated_at = ${_N + 1} WHERE id = ${_N + 2}"
)
# Due rows (a lapsed lease included) of enabled destinations, oldest first; rows another
# claimer holds are skipped, not waited for. The lease ends at now + lease_s.
_CLAIM = (
    f"WITH now AS (SELECT coalesce($4::float8, {NOW}) AS t), "
    "due AS (SELECT o.id FROM outbox o, now "
    "WHERE o.status IN ('pending', 'retry', 'sending') AND o.next_attempt_at <= now.t "
    "AND o.destination_id IN (SELECT id FROM destinations WHERE enabled) "
    "ORDER BY o.next_attempt_at, o.id LIMIT $2 FOR UPDATE OF o SKIP LOCKED) "
    "UPDATE outbox SET status = 'sending', lease_owner = $1, next_attempt_at = now.t + $3, "
    "attempts = outbox.attempts + 1 FROM due, now WHERE outbox.id = due.id RETURNING outbox.id"
)
# Attempts on rows `worker` still holds, and their lines in the delivery log, in one
# statement. Sent and dead rows lose their sealed client data.
_FINISH = (
    f"WITH now AS (SELECT {NOW} AS t), "
    "a AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::int[], "
    "$5::text[], $6::float8[]) WITH ORDINALITY AS a(id, status, at, http, error, ms, n)), "
    "done AS (UPDATE outbox o SET status = a.status, lease_owner = NULL, last_status = a.http, "
    "last_error = CASE WHEN a.status = 'sent' THEN NULL ELSE a.error END, "
    "sent_at = CASE WHEN a.status = 'sent' THEN now.t ELSE o.sent_at END, "
    "next_attempt_at = CASE WHEN a.status = 'sent' THEN o.next_attempt_at "
    "ELSE coalesce(a.at, now.t) END, "
    "sealed_client = CASE WHEN a.status = 'retry' THEN o.sealed_client END "
    "FROM a, now WHERE o.id = a.id AND o.lease_owner = $7 AND o.status = 'sending' "
    "RETURNING o.id, o.destination_id, o.attempts) "
    "INSERT INTO deliveries (outbox_id, destination_id, ts, status, attempt, http_status, "
    "latency_ms, error) SELECT done.id, done.destination_id, now.t, a.status, done.attempts, "
    "a.http, a.ms, a.error FROM done JOIN a ON a.id = done.id, now ORDER BY a.n"
)
_ENQUEUE = (
    "INSERT INTO outbox (destination_id, conversion_id, event_name, next_attempt_at, "
    "click_ids, sealed_client, created_at) "
    "SELECT t.d, $1, t.e, now.t, $4, $5, now.t "
    f"FROM unnest($2::bigint[], $3::text[]) AS t(d, e), (SELECT {NOW} AS t) now "
    "ORDER BY t.d ON CONFLICT DO NOTHING"
)


def _count(status: str) -> int:
    """asyncpg answers 'UPDATE 3' or 'INSERT 0 3'; the last word is the row count."""
    return int(status.rsplit(" ", 1)[-1])


def _in_log_order(attempts: Sequence[Attempt]) -> list[Attempt]:
    """One attempt per row (the first), sent rows first grouped by HTTP status, then the rest
    in the order given: the order SQLite writes the delivery log in."""
    seen: set[int] = set()
    sent: dict[int | None, list[Attempt]] = {}
    rest: list[Attempt] = []
    for a in attempts:
        if a.outbox_id in seen:
            continue
        seen.add(a.outbox_id)
        if a.status == "sent":
            sent.setdefault(a.http_status, []).append(a)
        else:
            rest.append(a)
    return [a for group in sent.values() for a in group] + rest


class PostgresOutbox:
    """Needs the host store's `_transaction`, `_all`, `_one` and `_value`."""

    def _transaction(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        raise NotImplementedError

    async def _all(self, sql: str, *args: Any) -> list[Any]:
        raise NotImplementedError

    async def _one(self, sql: str, *args: Any) -> Any:
        raise NotImplementedError

    async def _value(self, sql: str, *args: Any) -> Any:
        raise NotImplementedError

    # --- destinations ---------------------------------------------------------------------

    async def insert_destination(self, dest: Destination) -> Destination:
        now = int(time.time())
        try:
            dest_id = await self._value(_INSERT_DESTINATION, *destination_params(dest), now, now)
        except asyncpg.UniqueViolationError:
            raise name_taken(dest) from None
        saved = await self.get_destination(dest_id)
        assert saved is not None
        return saved

    async def update_destination(self, dest: Destination) -> Destination:
        if dest.id is None:
            raise NotFound("destination has no id")
        try:
            async with self._transaction() as conn:
                status = await conn.execute(
                    _UPDATE_DESTINATION, *destination_params(dest), int(time.time()), dest.id
                )
        except asyncpg.UniqueViolationError:
            raise name_taken(dest) from None
        if _count(status) == 0:
            raise NotFound(f"no destination with id {dest.id}")
        saved = await self.get_destination(dest.id)
        assert saved is not None
        return saved

    async def get_destination(self, destination_id: int) -> Destination | None:
        row = await self._one(
            f"SELECT {DESTINATION_COLUMNS} FROM destinations WHERE id = $1", destination_id
        )
        return destination_from_row(row) if row else None

    async def list_destinations(self) -> list[Destination]:
        rows = await self._all(f"SELECT {DESTINATION_COLUMNS} FROM destinations ORDER BY id")
        return [destination_from_row(r) for r in rows]

    async def delete_destination(self, destination_id: int) -> bool:
        """Remove a destination with its outbox rows and delivery log."""
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM deliveries WHERE destination_id = $1", destination_id)
            await conn.execute("DELETE FROM outbox WHERE destination_id = $1", destination_id)
            status = await conn.execute("DELETE FROM destinations WHERE id = $1", destination_id)
            return _count(status) > 0

    # --- the outbox -----------------------------------------------------------------------

    async def _insert_outbox(
        self, tx: Conn, conversion_id: int, conv: Conversion, targets: Sequence[OutboxTarget]
    ) -> int:
        """The outbox rows of a new conversion, in its transaction: the ones the caller chose
        (`domain.destinations.outbox_targets`), with its click ids and sealed client data."""
        if not targets:
            return 0
        await tx.execute(
            _ENQUEUE,
            (
                conversion_id,
                [t.destination_id for t in targets],
                [t.event_name for t in targets],
                click_ids_json(conv),
                conv.sealed_client,
            ),
        )
        return len(targets)

    async def claim_outbox(
        self, worker: str, limit: int, lease_s: float, now: float | None = None
    ) -> list[OutboxItem]:
        """Due rows (pending, retry, or sending with a lapsed lease) of enabled destinations,
        leased to `worker` until now + lease_s. Each claim counts as an attempt."""
        async with self._transaction() as conn:
            claimed = await conn.fetch(_CLAIM, worker, limit, float(lease_s), now)
            if not claimed:
                return []
            rows = await conn.fetch(
                f"{ITEM_SELECT} WHERE o.id = ANY($1::bigint[]) ORDER BY o.id",
                [r[0] for r in claimed],
            )
        return [item_from_row(r) for r in rows]

    async def finish_outbox(self, worker: str, attempts: Sequence[Attempt]) -> int:
        """Record attempts on rows `worker` still holds (a row reclaimed after its lease ran
        out is another worker's now). Sent and dead rows lose their sealed client data. Returns
        the rows updated; each gets a line in the delivery log."""
        if not attempts:
            return 0
        ordered = _in_log_order(attempts)
        async with self._transaction() as conn:
            status = await conn.execute(
                _FINISH,
                [a.outbox_id for a in ordered],
                [a.status for a in ordered],
                [a.next_attempt_at for a in ordered],
                [a.http_status for a in ordered],
                [a.error for a in ordered],
                [a.latency_ms for a in ordered],
                worker,
            )
        return _count(status)

    async def outbox_counts(self, destination_id: int | None = None) -> dict[str, int]:
        if destination_id:
            rows = await self._all(
                "SELECT status, count(*) FROM outbox WHERE destination_id = $1 GROUP BY status",
                destination_id,
            )
        else:
            rows = await self._all("SELECT status, count(*) FROM outbox GROUP BY status")
        return counts_from_rows(rows)

    async def replay_outbox(
        self, destination_id: int | None = None, outbox_ids: Sequence[int] | None = None
    ) -> int:
        """Dead rows become pending again, due now, with a fresh attempt count."""
        if outbox_ids is not None and not outbox_ids:
            return 0
        async with self._transaction() as conn:
            status = await conn.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, "
                f"next_attempt_at = {NOW}, lease_owner = NULL WHERE status = 'dead' "
                "AND ($1::bigint IS NULL OR destination_id = $1) "
                "AND ($2::bigint[] IS NULL OR id = ANY($2))",
                destination_id,
                list(outbox_ids) if outbox_ids is not None else None,
            )
        return _count(status)

    async def list_deliveries(
        self, destination_id: int, limit: int = 100, before_id: int | None = None
    ) -> list[Delivery]:
        """Newest first; page with before_id."""
        rows = await self._all(
            f"{DELIVERY_SELECT} WHERE d.destination_id = $1 "
            "AND ($2::bigint IS NULL OR d.id < $2) ORDER BY d.id DESC LIMIT $3",
            destination_id,
            before_id,
            limit,
        )
        return [delivery_from_row(r) for r in rows]
