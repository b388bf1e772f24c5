"""SQLite: enqueueing and claiming jobs by this process's clock (the rest is sql/jobs.py).

A claim is one BEGIN IMMEDIATE transaction, so claimers in any number of processes never
share a job.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from firstmark.store.protocol import Job
from firstmark.store.sql.jobs import JobSQL


class SQLiteJobs(JobSQL):
    async def enqueue_jobs(
        self, queue: str, payloads: Sequence[str], run_at: float | None = None
    ) -> list[int]:
        now = time.time()
        due = now if run_at is None else run_at
        ids: list[int] = []
        async with self.db.transaction() as tx:
            for payload in payloads:
                ids.append(
                    await tx.fetchval(
                        "INSERT INTO jobs (queue, payload, run_at, created_at) "
                        "VALUES (?, ?, ?, ?) RETURNING id",
                        (queue, payload, due, now),
                    )
                )
        return ids

    async def claim_jobs(self, queue: str, worker: str, limit: int, lease_s: float) -> list[Job]:
        """Due jobs, leased to `worker` until now + lease_s."""
        now = time.time()
        async with self.db.transaction() as tx:
            rows = await tx.fetch(
                "UPDATE jobs SET lease_owner = ?, lease_until = ?, attempts = attempts + 1 "
                "WHERE id IN (SELECT id FROM jobs WHERE queue = ? AND done_at IS NULL "
                "AND run_at <= ? AND (lease_until IS NULL OR lease_until <= ?) "
                "ORDER BY run_at, id LIMIT ?) "
                "RETURNING id, queue, payload, attempts, lease_until",
                (worker, now + lease_s, queue, now, now, limit),
            )
        return sorted((Job(*r) for r in rows), key=lambda j: j.id)
