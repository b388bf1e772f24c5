"""Enqueueing and claiming jobs on PostgreSQL: leases by the database clock, claims that skip
locked rows (the rest is sql/jobs.py).

Any number of workers on any number of nodes can claim at once: `FOR UPDATE SKIP LOCKED` hands
each due row to one claimer and lets the others pass it by instead of waiting. A lease that
expires (its worker died) makes the job due again; only the current holder may finish it.
"""

from __future__ import annotations

from collections.abc import Sequence

from firstmark.store.postgres.executor import NOW
from firstmark.store.protocol import Job
from firstmark.store.sql.jobs import JobSQL


class PostgresJobs(JobSQL):
    async def enqueue_jobs(
        self, queue: str, payloads: Sequence[str], run_at: float | None = None
    ) -> list[int]:
        rows = await self.db.write(
            "INSERT INTO jobs (queue, payload, run_at, created_at) "
            "SELECT ?, t.p, coalesce(?::float8, c.now), c.now "
            "FROM unnest(?::text[]) WITH ORDINALITY AS t(p, n) "
            f"CROSS JOIN (SELECT {NOW} AS now) c ORDER BY t.n RETURNING id",
            (queue, run_at, list(payloads)),
        )
        return [r[0] for r in rows]

    async def claim_jobs(self, queue: str, worker: str, limit: int, lease_s: float) -> list[Job]:
        """Due jobs, leased to `worker` until now + lease_s."""
        rows = await self.db.write(
            f"WITH now AS (SELECT {NOW} AS t), "
            "due AS (SELECT id FROM jobs, now WHERE queue = ? AND done_at IS NULL "
            "AND run_at <= now.t AND (lease_until IS NULL OR lease_until <= now.t) "
            "ORDER BY run_at, id LIMIT ? FOR UPDATE OF jobs SKIP LOCKED) "
            "UPDATE jobs j SET lease_owner = ?, lease_until = now.t + ?, "
            "attempts = j.attempts + 1 FROM due, now WHERE j.id = due.id "
            "RETURNING j.id, j.queue, j.payload, j.attempts, j.lease_until",
            (queue, limit, worker, lease_s),
        )
        return sorted((Job(*r) for r in rows), key=lambda j: j.id)
