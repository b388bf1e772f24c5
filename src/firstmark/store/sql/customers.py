"""The conversions the customers report reads, the same on both engines."""

from __future__ import annotations

from firstmark.domain.customers import Sale
from firstmark.store.sql.executor import SharedSQL


class CustomerSQL(SharedSQL):
    async def customer_sales(self, until: float) -> list[Sale]:
        """Every conversion before `until`, oldest first, with its identities (visitor id,
        customer hash, hashed e-mail) and its first touch as the first_touch model stored it
        (NULL while not shared out yet)."""
        email = self.dialect.json_field("c.user_data", "em")
        rows = await self.db.fetch(
            f"SELECT c.id, c.ts, c.value, c.currency, c.visitor_id, c.customer_hash, {email}, "
            "a.utm_source, a.utm_medium, a.utm_campaign FROM conversions c "
            "LEFT JOIN attribution_credits a ON a.ts = c.ts AND a.conversion_id = c.id "
            "AND a.model = 'first_touch' WHERE c.ts < ? ORDER BY c.ts, c.id",
            (float(until),),
        )
        return [
            Sale(
                int(r[0]), float(r[1]), None if r[2] is None else float(r[2]), r[3], r[4], r[5],
                r[6], r[7], r[8], r[9],
            )
            for r in rows
        ]  # fmt: skip
