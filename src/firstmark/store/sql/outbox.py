"""Destinations, the forwarding outbox and the delivery log, the same on both engines
(rows/outbox.py shapes the rows). Putting a conversion's rows in, claiming due rows and
recording attempts are each engine's: SQLite's one writer and this process's clock,
PostgreSQL's `FOR UPDATE SKIP LOCKED`, set-based statements and the database clock."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from firstmark.domain.destinations import (
    Delivery,
    DeliveryFilter,
    Destination,
    OutboxItem,
    OutboxRow,
)
from firstmark.errors import NotFound
from firstmark.store.rows.outbox import (
    DELIVERY_SELECT,
    DESTINATION_COLUMNS,
    DESTINATION_WRITE,
    ITEM_SELECT,
    counts_from_rows,
    delivery_from_row,
    destination_from_row,
    destination_params,
    item_from_row,
    name_taken,
)
from firstmark.store.sql.executor import Conn, SharedSQL, Violation

# SQLite binds at most 32,766 variables in one statement.
CHUNK = 5000

_INSERT_DESTINATION = (
    f"INSERT INTO destinations ({', '.join(DESTINATION_WRITE)}, created_at, updated_at) "
    f"VALUES ({', '.join('?' * (len(DESTINATION_WRITE) + 2))}) RETURNING id"
)
_UPDATE_DESTINATION = (
    f"UPDATE destinations SET {' = ?, '.join(DESTINATION_WRITE)} = ?, updated_at = ? WHERE id = ?"
)


def chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


class OutboxSQL(SharedSQL):
    # --- destinations ---------------------------------------------------------------------

    async def insert_destination(self, dest: Destination) -> Destination:
        now = int(time.time())
        try:
            rows = await self.db.write(_INSERT_DESTINATION, (*destination_params(dest), now, now))
        except Violation as exc:
            if exc.unique("destinations", "name"):
                raise name_taken(dest) from None
            raise
        saved = await self.get_destination(rows[0][0])
        assert saved is not None
        return saved

    async def update_destination(self, dest: Destination) -> Destination:
        if dest.id is None:
            raise NotFound("destination has no id")
        try:
            changed = await self.db.execute(
                _UPDATE_DESTINATION, (*destination_params(dest), int(time.time()), dest.id)
            )
        except Violation as exc:
            if exc.unique("destinations", "name"):
                raise name_taken(dest) from None
            raise
        if not changed:
            raise NotFound(f"no destination with id {dest.id}")
        saved = await self.get_destination(dest.id)
        assert saved is not None
        return saved

    async def get_destination(self, destination_id: int) -> Destination | None:
        row = await self.db.fetchrow(
            f"SELECT {DESTINATION_COLUMNS} FROM destinations WHERE id = ?", (destination_id,)
        )
        return destination_from_row(row) if row else None

    async def list_destinations(self) -> list[Destination]:
        rows = await self.db.fetch(f"SELECT {DESTINATION_COLUMNS} FROM destinations ORDER BY id")
        return [destination_from_row(r) for r in rows]

    async def delete_destination(self, destination_id: int) -> bool:
        """Remove a destination with its outbox rows and delivery log."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM deliveries WHERE destination_id = ?", (destination_id,))
            await tx.execute("DELETE FROM outbox WHERE destination_id = ?", (destination_id,))
            deleted = await tx.execute("DELETE FROM destinations WHERE id = ?", (destination_id,))
        return deleted > 0

    async def set_destination_auth(
        self,
        destination_id: int,
        status: str,
        error: str | None = None,
        credentials_sealed: str | None = None,
    ) -> bool:
        """Record whether the destination's credentials work (`ok`, `needs_reauth` with the
        platform's words), with rotated credentials when given (same fields). Back to `ok`
        from `needs_reauth`: the rows that waited are due at once."""
        now, params = self.dialect.now()
        async with self.db.transaction() as tx:
            before = await tx.fetchval(
                "SELECT auth_status FROM destinations WHERE id = ?", (destination_id,)
            )
            if before is None:
                return False
            sets, values = ["auth_status = ?", "auth_error = ?"], [status, error]
            if credentials_sealed is not None:
                sets.append("credentials = ?")
                values.append(credentials_sealed)
            await tx.execute(
                f"UPDATE destinations SET {', '.join(sets)}, updated_at = ? WHERE id = ?",
                (*values, int(time.time()), destination_id),
            )
            if before != "ok" and status == "ok":
                await tx.execute(
                    f"UPDATE outbox SET next_attempt_at = {now} "
                    "WHERE destination_id = ? AND status IN ('pending', 'retry')",
                    (*params, destination_id),
                )
        return True

    # --- the outbox -----------------------------------------------------------------------

    async def _outbox_items(self, tx: Conn, ids: Sequence[int]) -> list[OutboxItem]:
        """The rows a claim just leased, in this transaction, by id."""
        items: list[OutboxItem] = []
        for chunk in chunks(sorted(ids)):
            among, params = self.dialect.among("o.id", chunk)
            rows = await tx.fetch(f"{ITEM_SELECT} WHERE {among} ORDER BY o.id", params)
            items.extend(item_from_row(r) for r in rows)
        return items

    async def outbox_counts(self, destination_id: int | None = None) -> dict[str, int]:
        where, params = (
            ("WHERE destination_id = ?", [destination_id]) if destination_id else ("", [])
        )
        rows = await self.db.fetch(
            f"SELECT status, count(*) FROM outbox {where} GROUP BY status", params
        )
        return counts_from_rows(rows)

    async def replay_outbox(
        self, destination_id: int | None = None, outbox_ids: Sequence[int] | None = None
    ) -> int:
        """Dead rows become pending again, due now, with a fresh attempt count."""
        if outbox_ids is not None and not outbox_ids:
            return 0
        now, params = self.dialect.now()
        where = ["status = 'dead'"]
        if destination_id is not None:
            where.append("destination_id = ?")
            params.append(destination_id)
        if outbox_ids is not None:
            among, ids = self.dialect.among("id", outbox_ids)
            where.append(among)
            params.extend(ids)
        return await self.db.execute(
            f"UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = {now}, "
            f"lease_owner = NULL WHERE {' AND '.join(where)}",
            params,
        )

    async def list_deliveries(
        self,
        destination_id: int | None = None,
        limit: int = 100,
        before_id: int | None = None,
        *,
        where: DeliveryFilter | None = None,
    ) -> list[Delivery]:
        """Newest first; page with before_id. `where` filters by destination, status, time
        and event id (its destination_id, before_id and limit win over the arguments)."""
        f = where or DeliveryFilter(destination_id, before_id=before_id, limit=limit)
        conditions: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("d.destination_id = ?", f.destination_id),
            ("d.status = ?", f.status),
            ("d.ts >= ?", f.since),
            ("d.ts < ?", f.until),
            ("c.event_id = ?", f.event_id),
            ("d.id < ?", f.before_id),
        ):
            if value is not None:
                conditions.append(clause)
                params.append(value)
        sql = DELIVERY_SELECT
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        rows = await self.db.fetch(f"{sql} ORDER BY d.id DESC LIMIT ?", [*params, f.limit])
        return [delivery_from_row(r) for r in rows]

    async def delivery_quality(
        self, destination_id: int, since: float, until: float
    ) -> list[tuple[int, str, str, int]]:
        """(day number, status, identifier names ",em,fbc,", attempts) of a destination's
        delivery log in [since, until): what the daily match-quality summary folds."""
        rows = await self.db.fetch(
            "SELECT CAST(ts AS BIGINT) / 86400 AS day, status, coalesce(identifiers, ''), "
            "count(*) FROM deliveries WHERE destination_id = ? AND ts >= ? AND ts < ? "
            "GROUP BY 1, 2, 3 ORDER BY 1",
            (destination_id, since, until),
        )
        return [(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    async def delivery_health(self, since: float) -> list[tuple[int, str, int, float | None]]:
        """(destination id, status, attempts, last ts) of the delivery log since `since`."""
        rows = await self.db.fetch(
            "SELECT destination_id, status, count(*), max(ts) FROM deliveries WHERE ts >= ? "
            "GROUP BY destination_id, status",
            (since,),
        )
        return [(int(r[0]), str(r[1]), int(r[2]), r[3]) for r in rows]

    async def list_outbox(
        self,
        status: str | None = None,
        destination_id: int | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[OutboxRow]:
        """Outbox rows, newest first: the queue (pending, retry, sending) or dead rows."""
        conditions, params = [], []
        for clause, value in (
            ("o.status = ?", status),
            ("o.destination_id = ?", destination_id),
            ("o.id < ?", before_id),
        ):
            if value is not None:
                conditions.append(clause)
                params.append(value)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = await self.db.fetch(
            "SELECT o.id, o.destination_id, c.event_id, o.event_name, o.status, o.attempts, "
            "o.next_attempt_at, o.last_status, o.last_error, o.created_at FROM outbox o "
            f"JOIN conversions c ON c.id = o.conversion_id {where} ORDER BY o.id DESC LIMIT ?",
            [*params, limit],
        )
        return [OutboxRow(*r) for r in rows]

    async def unresolved_requests(
        self, destination_id: int, since: float, limit: int = 100
    ) -> list[str]:
        """Platform request ids of sent attempts whose processing is not known yet."""
        rows = await self.db.fetch(
            "SELECT DISTINCT request_id FROM deliveries WHERE destination_id = ? "
            "AND status = 'sent' AND request_id IS NOT NULL AND ts >= ? "
            "AND (diagnostics IS NULL OR diagnostics LIKE 'PROCESSING%') LIMIT ?",
            (destination_id, since, limit),
        )
        return [str(r[0]) for r in rows]

    async def record_diagnostics(self, request_id: str, diagnostics: str) -> int:
        """What the platform reported later of a request's processing, on its log lines."""
        return await self.db.execute(
            "UPDATE deliveries SET diagnostics = ? WHERE request_id = ?",
            (diagnostics, request_id),
        )
