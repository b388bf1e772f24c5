"""SQLite: taking and renewing DNI leases (the rest of call tracking is sql/calls.py).

Taking a lease is one statement and a webhook's merge one writer transaction: SQLite has one
writer (across processes too), so two leases can never pick the same number and two webhooks
of one call never merge into the same old row.
"""

from __future__ import annotations

from firstmark.domain.calls import Lease
from firstmark.store.rows.calls import (
    LEASE_WRITE,
    lease_params,
    taken,
)
from firstmark.store.sql.calls import CallSQL

# A lease on the pool's number free the longest (never leased first), read off the
# numbers_free index; the number_leases_take trigger marks the number leased. One statement.
_TAKE = (
    f"INSERT INTO number_leases (number_id, {', '.join(LEASE_WRITE)}) "
    f"SELECT id, {', '.join('?' * len(LEASE_WRITE))} FROM numbers "
    "WHERE pool = ? AND released_at IS NULL AND leased_until < ? "
    "ORDER BY leased_until, last_leased, id LIMIT 1 "
    "RETURNING number_id, (SELECT e164 FROM numbers n WHERE n.id = number_leases.number_id)"
)


class SQLiteCalls(CallSQL):
    call_day = "date(started, 'unixepoch')"

    async def take_lease(self, lease: Lease, now: float) -> Lease | None:
        """The pool's number free the longest, leased until lease.expires; None when every
        number of the pool is leased (or it has none)."""
        rows = await self.db.write(_TAKE, (*lease_params(lease), lease.pool, now))
        if not rows:
            return None
        number_id, e164 = rows[0]
        return taken(lease, number_id, e164)

    async def renew_lease(self, lease_id: str, now: float, expires: float) -> Lease | None:
        """Extend a lease that still holds its number; None when it is unknown or over."""
        async with self.db.transaction() as tx:
            held = await tx.fetch(
                "UPDATE numbers SET leased_until = max(leased_until, ?) "
                "WHERE id = (SELECT number_id FROM number_leases WHERE id = ?) "
                "AND lease_id = ? AND leased_until >= ? AND released_at IS NULL "
                "RETURNING id",
                (expires, lease_id, lease_id, now),
            )
            if not held:
                return None
            await tx.execute(
                "UPDATE number_leases SET expires = max(expires, ?) WHERE id = ?",
                (expires, lease_id),
            )
            return await self._lease(tx, lease_id)
