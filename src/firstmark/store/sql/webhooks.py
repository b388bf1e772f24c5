"""Webhook endpoints, their outbox of signed messages and its delivery log, the same on both
engines. A claim locks the due rows it takes (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
workers on many nodes each take different rows; SQLite's one writer holds the database)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from firstmark.domain.destinations import Attempt
from firstmark.domain.webhooks import Endpoint, Message, QueuedMessage, WebhookDelivery
from firstmark.errors import NotFound
from firstmark.store.sql.executor import Row, SharedSQL

_COLUMNS = (
    "id, url, events, secrets, description, click_mode, sample_every, enabled, "
    "previous_until, created_at, updated_at"
)
_QUEUED = "id, endpoint_id, msg_id, event_type, body, attempts"


def _endpoint(row: Row) -> Endpoint:
    return Endpoint(
        id=int(row[0]),
        url=row[1],
        events=tuple(json.loads(row[2])),
        secrets_sealed=row[3],
        description=row[4],
        click_mode=row[5],
        sample_every=int(row[6]),
        enabled=bool(row[7]),
        previous_until=None if row[8] is None else float(row[8]),
        created_at=int(row[9]),
        updated_at=int(row[10]),
    )


def _queued(row: Row) -> QueuedMessage:
    return QueuedMessage(int(row[0]), int(row[1]), row[2], row[3], row[4], int(row[5]))


class WebhookSQL(SharedSQL):
    # --- endpoints ------------------------------------------------------------------------

    async def insert_webhook(self, ep: Endpoint) -> Endpoint:
        now = int(time.time())
        rows = await self.db.write(
            "INSERT INTO webhook_endpoints (url, events, secrets, description, click_mode, "
            "sample_every, enabled, previous_until, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                ep.url, json.dumps(list(ep.events)), ep.secrets_sealed, ep.description,
                ep.click_mode, ep.sample_every, ep.enabled, ep.previous_until, now, now,
            ),
        )  # fmt: skip
        saved = await self.get_webhook(int(rows[0][0]))
        assert saved is not None
        return saved

    async def update_webhook(self, ep: Endpoint) -> Endpoint:
        if ep.id is None:
            raise NotFound("webhook endpoint has no id")
        changed = await self.db.execute(
            "UPDATE webhook_endpoints SET url = ?, events = ?, secrets = ?, description = ?, "
            "click_mode = ?, sample_every = ?, enabled = ?, previous_until = ?, updated_at = ? "
            "WHERE id = ?",
            (
                ep.url, json.dumps(list(ep.events)), ep.secrets_sealed, ep.description,
                ep.click_mode, ep.sample_every, ep.enabled, ep.previous_until,
                int(time.time()), ep.id,
            ),
        )  # fmt: skip
        if not changed:
            raise NotFound(f"no webhook endpoint with id {ep.id}")
        saved = await self.get_webhook(ep.id)
        assert saved is not None
        return saved

    async def get_webhook(self, endpoint_id: int) -> Endpoint | None:
        row = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE id = ?", (endpoint_id,)
        )
        return _endpoint(row) if row else None

    async def list_webhooks(self) -> list[Endpoint]:
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM webhook_endpoints ORDER BY id")
        return [_endpoint(r) for r in rows]

    async def delete_webhook(self, endpoint_id: int) -> bool:
        """Remove an endpoint with its queued messages and delivery log."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = ?", (endpoint_id,))
            await tx.execute("DELETE FROM webhook_outbox WHERE endpoint_id = ?", (endpoint_id,))
            deleted = await tx.execute("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,))
        return deleted > 0

    # --- the outbox -----------------------------------------------------------------------

    async def enqueue_webhooks(self, messages: Sequence[Message], now: float | None = None) -> int:
        """Queue messages, due now. A message id already queued is not queued twice."""
        if not messages:
            return 0
        at = time.time() if now is None else now
        async with self.db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO webhook_outbox (endpoint_id, msg_id, event_type, body, "
                "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(m.endpoint_id, m.msg_id, m.event_type, m.body, at, at) for m in messages],
            )
        return len(messages)

    async def claim_webhooks(
        self, worker: str, limit: int, lease_s: float, now: float | None = None
    ) -> list[QueuedMessage]:
        """Due messages (pending, retry, or sending with a lapsed lease) of enabled
        endpoints, leased to `worker` until now + lease_s. Each claim counts as an attempt.
        Without `now`, the engine's clock (PostgreSQL's, so leases hold across nodes)."""
        if now is not None:
            at = now
        elif self.dialect.clock is None:
            at = time.time()
        else:
            at = float(await self.db.fetchval(f"SELECT {self.dialect.clock}"))
        due = await self.db.fetchrow(
            "SELECT 1 FROM webhook_outbox WHERE status IN ('pending', 'retry', 'sending') "
            "AND next_attempt_at <= ? LIMIT 1",
            (at,),
        )
        if due is None:  # an idle poll takes no write lock
            return []
        lock = f"{self.dialect.for_update} SKIP LOCKED" if self.dialect.for_update else ""
        async with self.db.transaction() as tx:
            rows = await tx.fetch(
                "SELECT o.id FROM webhook_outbox o "
                "WHERE o.status IN ('pending', 'retry', 'sending') AND o.next_attempt_at <= ? "
                "AND o.endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = ?) "
                f"ORDER BY o.next_attempt_at, o.id LIMIT ?{lock}",
                (at, True, limit),
            )
            ids = [int(r[0]) for r in rows]
            if not ids:
                return []
            among, params = self.dialect.among("id", ids)
            claimed = await tx.fetch(
                "UPDATE webhook_outbox SET status = 'sending', lease_owner = ?, "
                f"next_attempt_at = ?, attempts = attempts + 1 WHERE {among} "
                f"RETURNING {_QUEUED}",
                (worker, at + lease_s, *params),
            )
        return sorted((_queued(r) for r in claimed), key=lambda m: m.id)

    async def finish_webhooks(
        self, worker: str, attempts: Sequence[Attempt], now: float | None = None
    ) -> int:
        """Record attempts on messages `worker` still holds, each with a delivery log line."""
        at = time.time() if now is None else now
        done = 0
        async with self.db.transaction() as tx:
            for a in attempts:
                sent = a.status == "sent"
                row = await tx.fetchrow(
                    "UPDATE webhook_outbox SET status = ?, lease_owner = NULL, last_status = ?, "
                    "last_error = ?, sent_at = ?, next_attempt_at = ? "
                    "WHERE id = ? AND lease_owner = ? AND status = 'sending' "
                    "RETURNING endpoint_id, attempts",
                    (
                        a.status, a.http_status, None if sent else a.error,
                        at if sent else None,
                        a.next_attempt_at if a.next_attempt_at is not None else at,
                        a.outbox_id, worker,
                    ),
                )  # fmt: skip
                if row is None:
                    continue  # the lease ran out: another worker holds it now
                await tx.execute(
                    "INSERT INTO webhook_deliveries (outbox_id, endpoint_id, ts, status, "
                    "attempt, http_status, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        a.outbox_id, row[0], at, a.status, row[1], a.http_status,
                        a.latency_ms, a.error,
                    ),
                )  # fmt: skip
                done += 1
        return done

    async def replay_webhooks(
        self, endpoint_id: int | None = None, outbox_ids: Sequence[int] | None = None
    ) -> int:
        """Dead messages become pending again, due now, with a fresh attempt count (and
        their own webhook-id: receivers that got one before still deduplicate)."""
        if outbox_ids is not None and not outbox_ids:
            return 0
        where = ["status = 'dead'"]
        params: list[Any] = [time.time()]
        if endpoint_id is not None:
            where.append("endpoint_id = ?")
            params.append(endpoint_id)
        if outbox_ids is not None:
            among, ids = self.dialect.among("id", outbox_ids)
            where.append(among)
            params.extend(ids)
        return await self.db.execute(
            "UPDATE webhook_outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, "
            f"lease_owner = NULL WHERE {' AND '.join(where)}",
            params,
        )

    async def webhook_counts(self, endpoint_id: int) -> dict[str, int]:
        rows = await self.db.fetch(
            "SELECT status, count(*) FROM webhook_outbox WHERE endpoint_id = ? GROUP BY status",
            (endpoint_id,),
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def list_webhook_deliveries(
        self, endpoint_id: int, limit: int = 100, before_id: int | None = None
    ) -> list[WebhookDelivery]:
        """The delivery log of one endpoint, newest first."""
        params: list[Any] = [endpoint_id]
        before = ""
        if before_id is not None:
            before = " AND d.id < ?"
            params.append(before_id)
        rows = await self.db.fetch(
            "SELECT d.id, d.outbox_id, d.endpoint_id, o.msg_id, o.event_type, d.ts, d.status, "
            "d.attempt, d.http_status, d.latency_ms, d.error FROM webhook_deliveries d "
            "JOIN webhook_outbox o ON o.id = d.outbox_id "
            f"WHERE d.endpoint_id = ?{before} ORDER BY d.id DESC LIMIT ?",
            [*params, limit],
        )
        return [
            WebhookDelivery(
                int(r[0]), int(r[1]), int(r[2]), r[3], r[4], float(r[5]), r[6], int(r[7]),
                None if r[8] is None else int(r[8]), None if r[9] is None else float(r[9]),
                r[10],
            )
            for r in rows
        ]  # fmt: skip
