"""PostgreSQL: imports of ad costs serialised across nodes (the rest is sql/costs.py)."""

from __future__ import annotations

from firstmark.store.sql.costs import CostSQL
from firstmark.store.sql.executor import Conn

# Serialises imports, as SQLite's one writer does.
COSTS_LOCK = 0x66_6D_63_6F  # "fmco"


class PostgresCosts(CostSQL):
    async def _lock_costs(self, tx: Conn) -> None:
        await tx.execute("SELECT pg_advisory_xact_lock(?)", (COSTS_LOCK,))
