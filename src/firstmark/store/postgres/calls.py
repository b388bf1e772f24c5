"""PostgreSQL: taking and renewing DNI leases (the rest of call tracking is sql/calls.py).

Any number of nodes lease from one pool at once: a lease is one statement that picks the
pool's first free number `FOR UPDATE SKIP LOCKED` (a number another node is taking is passed
by, not waited for; one that node has just taken fails the recheck), marks it and writes the
lease row.
"""

from __future__ import annotations

from firstmark.domain.calls import Lease
from firstmark.store.rows.calls import (
    LEASE_WRITE,
    lease_params,
    taken,
)
from firstmark.store.sql.calls import CallSQL

# $1 expires, $2 now, $3 pool, then the lease's LEASE_WRITE values from $4 on (its id first);
# its number_id is the number taken. The CTEs run whole even when nothing is picked.
_TAKE = (
    "WITH picked AS (SELECT id FROM numbers WHERE pool = $3 AND released_at IS NULL "
    "AND leased_until < $2 ORDER BY leased_until, last_leased, id LIMIT 1 "
    "FOR UPDATE SKIP LOCKED), "
    "took AS (UPDATE numbers n SET leased_until = $1, last_leased = $2, lease_id = $4 "
    "FROM picked WHERE n.id = picked.id RETURNING n.id, n.e164), "
    f"lease AS (INSERT INTO number_leases (number_id, {', '.join(LEASE_WRITE)}) "
    "SELECT took.id, "
    + ", ".join(f"${i}" for i in range(4, len(LEASE_WRITE) + 4))
    + " FROM took) SELECT id, e164 FROM took"
)
# A lease still holding its number ($1 id, $2 now, $3 new end): both ends move, never back.
_RENEW = (
    "WITH held AS (UPDATE numbers SET leased_until = greatest(leased_until, $3) "
    "WHERE id = (SELECT number_id FROM number_leases WHERE id = $1) AND lease_id = $1 "
    "AND leased_until >= $2 AND released_at IS NULL RETURNING id) "
    "UPDATE number_leases l SET expires = greatest(l.expires, $3) FROM held "
    "WHERE l.id = $1 AND l.number_id = held.id RETURNING l.id"
)


class PostgresCalls(CallSQL):
    call_day = "to_char(to_timestamp(started) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"

    async def take_lease(self, lease: Lease, now: float) -> Lease | None:
        """The pool's number free the longest, leased until lease.expires; None when every
        number of the pool is leased (or it has none). One statement, one round trip."""
        rows = await self.db.write(_TAKE, (lease.expires, now, lease.pool, *lease_params(lease)))
        return taken(lease, rows[0][0], rows[0][1]) if rows else None

    async def renew_lease(self, lease_id: str, now: float, expires: float) -> Lease | None:
        """Extend a lease that still holds its number; None when it is unknown or over."""
        async with self.db.transaction() as tx:
            if await tx.fetchval(_RENEW, (lease_id, now, expires)) is None:
                return None
            return await self._lease(tx, lease_id)
