"""SQLite: destinations, the forwarding outbox and the delivery log (mixed into SQLiteStore).

Claims are one writer transaction: SQLite has one writer, so a claim can never overlap
another. The statements are shaped for the PostgreSQL port: the inner SELECT of a claim takes
`FOR UPDATE SKIP LOCKED` there, and `now` comes from the database clock.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiosqlite

from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import Attempt, Delivery, Destination, OutboxItem, OutboxTarget
from firstmark.errors import NotFound
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

# SQLite binds at most 32,766 variables in one statement.
_CHUNK = 5000


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


class SQLiteOutbox:
    """Needs the host store's `_transaction`, `_all` and `_one`."""

    def _transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        raise NotImplementedError

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    # --- destinations ---------------------------------------------------------------------

    async def insert_destination(self, dest: Destination) -> Destination:
        now = int(time.time())
        try:
            async with self._transaction() as conn:
                cur = await conn.execute(
                    f"INSERT INTO destinations ({', '.join(DESTINATION_WRITE)}, created_at, "
                    f"updated_at) VALUES ({', '.join('?' * (len(DESTINATION_WRITE) + 2))})",
                    (*destination_params(dest), now, now),
                )
                dest_id = cur.lastrowid
        except sqlite3.IntegrityError:
            raise name_taken(dest) from None
        assert dest_id is not None
        saved = await self.get_destination(dest_id)
        assert saved is not None
        return saved

    async def update_destination(self, dest: Destination) -> Destination:
        if dest.id is None:
            raise NotFound("destination has no id")
        now = int(time.time())
        try:
            async with self._transaction() as conn:
                cur = await conn.execute(
                    f"UPDATE destinations SET {' = ?, '.join(DESTINATION_WRITE)} = ?, "
                    "updated_at = ? WHERE id = ?",
                    (*destination_params(dest), now, dest.id),
                )
                if cur.rowcount == 0:
                    raise NotFound(f"no destination with id {dest.id}")
        except sqlite3.IntegrityError:
            raise name_taken(dest) from None
        saved = await self.get_destination(dest.id)
        assert saved is not None
        return saved

    async def get_destination(self, destination_id: int) -> Destination | None:
        row = await self._one(
            f"SELECT {DESTINATION_COLUMNS} FROM destinations WHERE id = ?", (destination_id,)
        )
        return destination_from_row(row) if row else None

    async def list_destinations(self) -> list[Destination]:
        rows = await self._all(f"SELECT {DESTINATION_COLUMNS} FROM destinations ORDER BY id")
        return [destination_from_row(r) for r in rows]

    async def delete_destination(self, destination_id: int) -> bool:
        """Remove a destination with its outbox rows and delivery log."""
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM deliveries WHERE destination_id = ?", (destination_id,))
            await conn.execute("DELETE FROM outbox WHERE destination_id = ?", (destination_id,))
            cur = await conn.execute("DELETE FROM destinations WHERE id = ?", (destination_id,))
            return cur.rowcount > 0

    # --- the outbox -----------------------------------------------------------------------

    async def _insert_outbox(
        self, tx: Conn, conversion_id: int, conv: Conversion, targets: Sequence[OutboxTarget]
    ) -> int:
        """The outbox rows of a new conversion, in its transaction: the ones the caller chose
        (`domain.destinations.outbox_targets`), with its click ids and sealed client data."""
        if not targets:
            return 0
        now = time.time()
        click_ids = click_ids_json(conv)
        await tx.executemany(
            "INSERT INTO outbox (destination_id, conversion_id, event_name, next_attempt_at, "
            "click_ids, sealed_client, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [
                (
                    t.destination_id,
                    conversion_id,
                    t.event_name,
                    now,
                    click_ids,
                    conv.sealed_client,
                    now,
                )
                for t in targets
            ],
        )
        return len(targets)

    async def claim_outbox(
        self, worker: str, limit: int, lease_s: float, now: float | None = None
    ) -> list[OutboxItem]:
        """Due rows (pending, retry, or sending with a lapsed lease) of enabled destinations,
        leased to `worker` until now + lease_s. Each claim counts as an attempt."""
        now = time.time() if now is None else now
        # A read first: an idle worker polling every second must not take the write lock
        # (and hold up the hit writer) just to find nothing.
        due = await self._one(
            "SELECT 1 FROM outbox WHERE status IN ('pending', 'retry', 'sending') "
            "AND next_attempt_at <= ? LIMIT 1",
            (now,),
        )
        if due is None:
            return []
        async with self._transaction() as conn:
            claimed = await conn.execute_fetchall(
                "UPDATE outbox SET status = 'sending', lease_owner = ?, next_attempt_at = ?, "
                "attempts = attempts + 1 WHERE id IN (SELECT id FROM outbox "
                "WHERE status IN ('pending', 'retry', 'sending') AND next_attempt_at <= ? "
                "AND destination_id IN (SELECT id FROM destinations WHERE enabled = 1) "
                "ORDER BY next_attempt_at, id LIMIT ?) RETURNING id",
                (worker, now + lease_s, now, limit),
            )
            ids = sorted(r[0] for r in claimed)
            items: list[OutboxItem] = []
            for chunk in _chunks(ids):
                rows = await conn.execute_fetchall(
                    f"{ITEM_SELECT} WHERE o.id IN ({', '.join('?' * len(chunk))}) ORDER BY o.id",
                    chunk,
                )
                items.extend(item_from_row(r) for r in rows)
        return items

    async def finish_outbox(self, worker: str, attempts: Sequence[Attempt]) -> int:
        """Record attempts on rows `worker` still holds (a row reclaimed after its lease ran
        out is another worker's now). Sent and dead rows lose their sealed client data. Returns
        the rows updated; each gets a line in the delivery log."""
        if not attempts:
            return 0
        now = time.time()
        done: list[Attempt] = []
        async with self._transaction() as conn:
            # Sent rows in one statement per HTTP status (a batch shares its status).
            by_status: dict[int | None, dict[int, Attempt]] = {}
            for a in attempts:
                if a.status == "sent":
                    by_status.setdefault(a.http_status, {})[a.outbox_id] = a
            for http_status, by_id in by_status.items():
                for chunk in _chunks(list(by_id)):
                    rows = await conn.execute_fetchall(
                        "UPDATE outbox SET status = 'sent', sent_at = ?, lease_owner = NULL, "
                        "sealed_client = NULL, last_status = ?, last_error = NULL "
                        f"WHERE id IN ({', '.join('?' * len(chunk))}) AND lease_owner = ? "
                        "AND status = 'sending' RETURNING id",
                        (now, http_status, *chunk, worker),
                    )
                    done.extend(by_id[r[0]] for r in rows)
            for a in attempts:
                if a.status == "sent":
                    continue
                dead = a.status == "dead"
                cur = await conn.execute(
                    "UPDATE outbox SET status = ?, next_attempt_at = ?, lease_owner = NULL, "
                    "last_status = ?, last_error = ?, "
                    "sealed_client = CASE WHEN ? THEN NULL ELSE sealed_client END "
                    "WHERE id = ? AND lease_owner = ? AND status = 'sending'",
                    (
                        a.status, a.next_attempt_at if a.next_attempt_at is not None else now,
                        a.http_status, a.error, dead, a.outbox_id, worker,
                    ),
                )  # fmt: skip
                if cur.rowcount:
                    done.append(a)
            await conn.executemany(
                "INSERT INTO deliveries (outbox_id, destination_id, ts, status, attempt, "
                "http_status, latency_ms, error) SELECT id, destination_id, ?, ?, attempts, ?, "
                "?, ? FROM outbox WHERE id = ?",
                [(now, a.status, a.http_status, a.latency_ms, a.error, a.outbox_id) for a in done],
            )
        return len(done)

    async def outbox_counts(self, destination_id: int | None = None) -> dict[str, int]:
        where, params = (
            ("WHERE destination_id = ?", [destination_id]) if destination_id else ("", [])
        )
        rows = await self._all(
            f"SELECT status, count(*) FROM outbox {where} GROUP BY status", params
        )
        return counts_from_rows(rows)

    async def replay_outbox(
        self, destination_id: int | None = None, outbox_ids: Sequence[int] | None = None
    ) -> int:
        """Dead rows become pending again, due now, with a fresh attempt count."""
        where, params = ["status = 'dead'"], [time.time()]
        if destination_id is not None:
            where.append("destination_id = ?")
            params.append(destination_id)
        if outbox_ids is not None:
            if not outbox_ids:
                return 0
            where.append(f"id IN ({', '.join('?' * len(outbox_ids))})")
            params.extend(outbox_ids)
        async with self._transaction() as conn:
            cur = await conn.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, "
                f"lease_owner = NULL WHERE {' AND '.join(where)}",
                params,
            )
            return cur.rowcount

    async def list_deliveries(
        self, destination_id: int, limit: int = 100, before_id: int | None = None
    ) -> list[Delivery]:
        """Newest first; page with before_id."""
        where, params = "d.destination_id = ?", [destination_id]
        if before_id is not None:
            where += " AND d.id < ?"
            params.append(before_id)
        rows = await self._all(
            f"{DELIVERY_SELECT} WHERE {where} ORDER BY d.id DESC LIMIT ?",
            [*params, limit],
        )
        return [delivery_from_row(r) for r in rows]
