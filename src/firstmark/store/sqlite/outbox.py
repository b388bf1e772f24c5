"""SQLite: putting a conversion's outbox rows in, claiming due rows and recording attempts, by
this process's clock (the rest of destinations and the outbox is sql/outbox.py).

A claim is one writer transaction: SQLite has one writer, so a claim can never overlap
another.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import Attempt, OutboxItem, OutboxTarget
from firstmark.store.rows.outbox import audit_params, click_ids_json
from firstmark.store.sql.executor import Conn
from firstmark.store.sql.outbox import OutboxSQL, chunks

_INSERT = (
    "INSERT INTO outbox (destination_id, conversion_id, event_name, next_attempt_at, "
    "click_ids, sealed_client, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING"
)


def _logged(a: Attempt) -> tuple[object, ...]:
    """A delivery log line's values after its timestamp, before the outbox id."""
    return (a.status, a.http_status, a.latency_ms, a.error, *audit_params(a))


class SQLiteOutbox(OutboxSQL):
    async def _insert_outbox(
        self, tx: Conn, conversion_id: int, conv: Conversion, targets: Sequence[OutboxTarget]
    ) -> int:
        """One row per target, by this process's clock, with the conversion's click ids and
        sealed client data."""
        if not targets:
            return 0
        now = time.time()
        click_ids = click_ids_json(conv)
        await tx.executemany(
            _INSERT,
            [
                (t.destination_id, conversion_id, t.event_name, now, click_ids,
                 conv.sealed_client, now)
                for t in targets
            ],
        )  # fmt: skip
        return len(targets)

    async def claim_outbox(
        self, worker: str, limit: int, lease_s: float, now: float | None = None
    ) -> list[OutboxItem]:
        """Due rows (pending, retry, or sending with a lapsed lease) of enabled destinations
        whose credentials work (not `needs_reauth`),
        leased to `worker` until now + lease_s. Each claim counts as an attempt."""
        now = time.time() if now is None else now
        # A read first: an idle worker polling every second must not take the write lock
        # (and hold up the hit writer) just to find nothing.
        due = await self.db.fetchrow(
            "SELECT 1 FROM outbox WHERE status IN ('pending', 'retry', 'sending') "
            "AND next_attempt_at <= ? LIMIT 1",
            (now,),
        )
        if due is None:
            return []
        async with self.db.transaction() as tx:
            claimed = await tx.fetch(
                "UPDATE outbox SET status = 'sending', lease_owner = ?, next_attempt_at = ?, "
                "attempts = attempts + 1 WHERE id IN (SELECT id FROM outbox "
                "WHERE status IN ('pending', 'retry', 'sending') AND next_attempt_at <= ? "
                "AND destination_id IN (SELECT id FROM destinations WHERE enabled = 1 "
                "AND auth_status = 'ok') "
                "ORDER BY next_attempt_at, id LIMIT ?) RETURNING id",
                (worker, now + lease_s, now, limit),
            )
            return await self._outbox_items(tx, [r[0] for r in claimed])

    async def finish_outbox(self, worker: str, attempts: Sequence[Attempt]) -> int:
        """Record attempts on rows `worker` still holds (a row reclaimed after its lease ran
        out is another worker's now). Sent and dead rows lose their sealed client data. Returns
        the rows updated; each gets a line in the delivery log."""
        if not attempts:
            return 0
        now = time.time()
        done: list[Attempt] = []
        async with self.db.transaction() as tx:
            # Sent rows in one statement per HTTP status (a batch shares its status).
            by_status: dict[int | None, dict[int, Attempt]] = {}
            for a in attempts:
                if a.status == "sent":
                    by_status.setdefault(a.http_status, {})[a.outbox_id] = a
            for http_status, by_id in by_status.items():
                for chunk in chunks(list(by_id)):
                    rows = await tx.fetch(
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
                changed = await tx.execute(
                    "UPDATE outbox SET status = ?, next_attempt_at = ?, lease_owner = NULL, "
                    "last_status = ?, last_error = ?, "
                    "sealed_client = CASE WHEN ? THEN NULL ELSE sealed_client END "
                    "WHERE id = ? AND lease_owner = ? AND status = 'sending'",
                    (
                        a.status, a.next_attempt_at if a.next_attempt_at is not None else now,
                        a.http_status, a.error, dead, a.outbox_id, worker,
                    ),
                )  # fmt: skip
                if changed:
                    done.append(a)
            await tx.executemany(
                "INSERT INTO deliveries (outbox_id, destination_id, ts, status, attempt, "
                "http_status, latency_ms, error, api_version, consent, identifiers, request_id) "
                "SELECT id, destination_id, ?, ?, attempts, ?, ?, ?, ?, ?, ?, ? "
                "FROM outbox WHERE id = ?",
                [(now, *_logged(a), a.outbox_id) for a in done],
            )
        return len(done)
