"""Claimable jobs on PostgreSQL: leases by the database clock, claims that skip locked rows.

Any number of workers on any number of nodes can claim at once: `FOR UPDATE SKIP LOCKED` hands
each due row to one claimer and lets the others pass it by instead of waiting. A lease that
expires (its worker died) makes the job due again; only the current holder may finish it.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from firstmark.store.protocol import Job

# The database clock: every node reads the same time, whatever its own clock says.
NOW = "extract(epoch FROM clock_timestamp())::float8"


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


async def enqueue(
    conn: asyncpg.Connection, queue: str, payloads: Sequence[str], run_at: float | None
) -> list[int]:
    rows = await conn.fetch(
        "INSERT INTO jobs (queue, payload, run_at, created_at) "
        "SELECT $1, t.p, coalesce($3::float8, c.now), c.now "
        "FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) "
        f"CROSS JOIN (SELECT {NOW} AS now) c ORDER BY t.n RETURNING id",
        queue,
        list(payloads),
        run_at,
    )
    return [r[0] for r in rows]


async def claim(
    conn: asyncpg.Connection, queue: str, worker: str, limit: int, lease_s: float
) -> list[Job]:
    """Due jobs, leased to `worker` until now + lease_s."""
    rows = await conn.fetch(
        f"WITH now AS (SELECT {NOW} AS t), "
        "due AS (SELECT id FROM jobs, now WHERE queue = $1 AND done_at IS NULL "
        "AND run_at <= now.t AND (lease_until IS NULL OR lease_until <= now.t) "
        "ORDER BY run_at, id LIMIT $2 FOR UPDATE OF jobs SKIP LOCKED) "
        "UPDATE jobs j SET lease_owner = $3, lease_until = now.t + $4, "
        "attempts = j.attempts + 1 FROM due, now WHERE j.id = due.id "
        "RETURNING j.id, j.queue, j.payload, j.attempts, j.lease_until",
        queue,
        limit,
        worker,
        lease_s,
    )
    return sorted((Job(*r) for r in rows), key=lambda j: j.id)


async def finish(conn: asyncpg.Connection, worker: str, job_ids: Sequence[int]) -> int:
    """Mark jobs done; only those `worker` still holds (a reclaimed job is not its own)."""
    status = await conn.execute(
        f"UPDATE jobs SET done_at = {NOW}, lease_until = NULL "
        "WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND done_at IS NULL",
        list(job_ids),
        worker,
    )
    return _count(status)


async def retry(conn: asyncpg.Connection, worker: str, job_id: int, run_at: float) -> bool:
    """Give a held job back, due again at run_at."""
    status = await conn.execute(
        "UPDATE jobs SET run_at = $1, lease_owner = NULL, lease_until = NULL "
        "WHERE id = $2 AND lease_owner = $3 AND done_at IS NULL",
        run_at,
        job_id,
        worker,
    )
    return _count(status) > 0
