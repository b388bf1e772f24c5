"""PostgreSQL: putting a conversion's outbox rows in, claiming due rows and recording attempts,
each one set-based statement by the database clock (the rest of destinations and the outbox is
sql/outbox.py).

A claim selects due rows `FOR UPDATE SKIP LOCKED`, like `claim_jobs` in jobs.py: any number of
workers on any number of nodes can claim at once, each row goes to one of them, and the others
pass it by instead of waiting. Times written here come from the database clock, so leases
hold whatever the nodes' clocks say; an explicit `now` (tests, a worker with its own clock) is
taken as given.
"""

from __future__ import annotations

from collections.abc import Sequence

from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import Attempt, OutboxItem, OutboxTarget
from firstmark.store.postgres.executor import NOW
from firstmark.store.rows.outbox import audit_params, click_ids_json
from firstmark.store.sql.executor import Conn
from firstmark.store.sql.outbox import OutboxSQL

# One row per destination, in destination order, all at one time.
_INSERT = (
    "INSERT INTO outbox (destination_id, conversion_id, event_name, next_attempt_at, "
    "click_ids, sealed_client, created_at) "
    "SELECT t.d, ?, t.e, now.t, ?, ?, now.t "
    f"FROM unnest(?::bigint[], ?::text[]) AS t(d, e), (SELECT {NOW} AS t) now "
    "ORDER BY t.d ON CONFLICT DO NOTHING"
)
# Due rows (a lapsed lease included) of enabled destinations whose credentials work (not
# needs_reauth), oldest first; rows another claimer holds are skipped, not waited for.
# The lease ends at now + lease_s.
_CLAIM = (
    f"WITH now AS (SELECT coalesce(?::float8, {NOW}) AS t), "
    "due AS (SELECT o.id FROM outbox o, now "
    "WHERE o.status IN ('pending', 'retry', 'sending') AND o.next_attempt_at <= now.t "
    "AND o.destination_id IN (SELECT id FROM destinations WHERE enabled "
    "AND auth_status = 'ok') "
    "ORDER BY o.next_attempt_at, o.id LIMIT ? FOR UPDATE OF o SKIP LOCKED) "
    "UPDATE outbox SET status = 'sending', lease_owner = ?, next_attempt_at = now.t + ?, "
    "attempts = outbox.attempts + 1 FROM due, now WHERE outbox.id = due.id RETURNING outbox.id"
)
# Attempts on rows `worker` still holds, and their lines in the delivery log, in one
# statement. Sent and dead rows lose their sealed client data.
_FINISH = (
    f"WITH now AS (SELECT {NOW} AS t), "
    "a AS (SELECT * FROM unnest(?::bigint[], ?::text[], ?::float8[], ?::int[], "
    "?::text[], ?::float8[], ?::text[], ?::text[], ?::text[], ?::text[]) "
    "WITH ORDINALITY AS a(id, status, at, http, error, ms, api, consent, ids, rid, n)), "
    "done AS (UPDATE outbox o SET status = a.status, lease_owner = NULL, last_status = a.http, "
    "last_error = CASE WHEN a.status = 'sent' THEN NULL ELSE a.error END, "
    "sent_at = CASE WHEN a.status = 'sent' THEN now.t ELSE o.sent_at END, "
    "next_attempt_at = CASE WHEN a.status = 'sent' THEN o.next_attempt_at "
    "ELSE coalesce(a.at, now.t) END, "
    "sealed_client = CASE WHEN a.status = 'retry' THEN o.sealed_client END "
    "FROM a, now WHERE o.id = a.id AND o.lease_owner = ? AND o.status = 'sending' "
    "RETURNING o.id, o.destination_id, o.attempts) "
    "INSERT INTO deliveries (outbox_id, destination_id, ts, status, attempt, http_status, "
    "latency_ms, error, api_version, consent, identifiers, request_id) "
    "SELECT done.id, done.destination_id, now.t, a.status, done.attempts, "
    "a.http, a.ms, a.error, a.api, a.consent, a.ids, a.rid "
    "FROM done JOIN a ON a.id = done.id, now ORDER BY a.n"
)


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


class PostgresOutbox(OutboxSQL):
    async def _insert_outbox(
        self, tx: Conn, conversion_id: int, conv: Conversion, targets: Sequence[OutboxTarget]
    ) -> int:
        """One statement for all of a new conversion's rows, in destination order, at one
        time by the database clock."""
        if not targets:
            return 0
        await tx.execute(
            _INSERT,
            (
                conversion_id,
                click_ids_json(conv),
                conv.sealed_client,
                [t.destination_id for t in targets],
                [t.event_name for t in targets],
            ),
        )
        return len(targets)

    async def claim_outbox(
        self, worker: str, limit: int, lease_s: float, now: float | None = None
    ) -> list[OutboxItem]:
        """One statement leases the due rows no other claimer holds (see _CLAIM); they are
        read in its transaction. A given `now` stands for the database clock."""
        async with self.db.transaction() as tx:
            claimed = await tx.fetch(_CLAIM, (now, limit, worker, float(lease_s)))
            return await self._outbox_items(tx, [r[0] for r in claimed])

    async def finish_outbox(self, worker: str, attempts: Sequence[Attempt]) -> int:
        """One statement records the attempts on rows `worker` still holds and logs them (see
        _FINISH), in the order SQLite logs them; returns the rows updated."""
        if not attempts:
            return 0
        ordered = _in_log_order(attempts)
        audits = [audit_params(a) for a in ordered]
        return await self.db.execute(
            _FINISH,
            (
                [a.outbox_id for a in ordered],
                [a.status for a in ordered],
                [a.next_attempt_at for a in ordered],
                [a.http_status for a in ordered],
                [a.error for a in ordered],
                [a.latency_ms for a in ordered],
                *([row[i] for row in audits] for i in range(4)),
                worker,
            ),
        )
