"""Claimable jobs, the same on both engines once claimed: finishing and giving back. Claiming
and enqueueing are each engine's (SQLite's one writer, PostgreSQL's SKIP LOCKED)."""

from __future__ import annotations

from collections.abc import Sequence

from firstmark.store.sql.executor import SharedSQL


class JobSQL(SharedSQL):
    async def finish_jobs(self, worker: str, job_ids: Sequence[int]) -> int:
        """Mark jobs done; only those `worker` still holds (a reclaimed job is not its own)."""
        if not job_ids:
            return 0
        now, params = self.dialect.now()
        among, ids = self.dialect.among("id", job_ids)
        return await self.db.execute(
            f"UPDATE jobs SET done_at = {now}, lease_until = NULL "
            f"WHERE lease_owner = ? AND done_at IS NULL AND {among}",
            (*params, worker, *ids),
        )

    async def retry_job(self, worker: str, job_id: int, run_at: float) -> bool:
        """Give a held job back, due again at run_at."""
        changed = await self.db.execute(
            "UPDATE jobs SET run_at = ?, lease_owner = NULL, lease_until = NULL "
            "WHERE id = ? AND lease_owner = ? AND done_at IS NULL",
            (run_at, job_id, worker),
        )
        return changed > 0
