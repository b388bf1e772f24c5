"""Alerts and the record of summaries sent, the same on both engines. Which node checks is
each engine's (`alert_lock`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from firstmark.domain.alerts import Alert, Raised
from firstmark.store.sql.executor import Row, SharedSQL

COLUMNS = "id, kind, subject, message, detail, raised_at, resolved_at"


def raised_from_row(r: Row) -> Raised:
    return Raised(
        int(r[0]),
        str(r[1]),
        str(r[2]),
        str(r[3]),
        json.loads(r[4]),
        float(r[5]),
        None if r[6] is None else float(r[6]),
    )


class AlertSQL(SharedSQL):
    async def raise_alerts(self, alerts: Sequence[Alert], now: float) -> list[Raised]:
        """Store each alert not already open for its kind and subject: the ones raised now.
        The open index decides, so two nodes checking at once still raise each one once."""
        out: list[Raised] = []
        for a in alerts:
            rows = await self.db.write(
                "INSERT INTO alerts (kind, subject, message, detail, raised_at) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (kind, subject) WHERE resolved_at IS NULL DO NOTHING "
                f"RETURNING {COLUMNS}",
                (a.kind, a.subject, a.message, json.dumps(dict(a.detail), sort_keys=True), now),
            )
            out.extend(raised_from_row(r) for r in rows)
        return out

    async def resolve_alerts(self, kind: str, subjects: Sequence[str], now: float) -> int:
        """End the open occurrences of `kind` for these subjects; how many ended."""
        if not subjects:
            return 0
        marks = ", ".join("?" * len(subjects))
        return await self.db.execute(
            f"UPDATE alerts SET resolved_at = ? WHERE kind = ? AND resolved_at IS NULL "
            f"AND subject IN ({marks})",
            (now, kind, *subjects),
        )

    async def list_alerts(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        open_only: bool = False,
        limit: int = 200,
    ) -> list[Raised]:
        """Alerts raised in [since, until) (or every one, or the open ones), newest first."""
        where: list[str] = []
        params: list[Any] = []
        if since is not None:
            where.append("raised_at >= ?")
            params.append(since)
        if until is not None:
            where.append("raised_at < ?")
            params.append(until)
        if open_only:
            where.append("resolved_at IS NULL")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = await self.db.fetch(
            f"SELECT {COLUMNS} FROM alerts{clause} ORDER BY raised_at DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [raised_from_row(r) for r in rows]

    async def claim_summary(self, period: str, now: float) -> bool:
        """Whether this caller is the one to send the summary of `period` (the first to ask)."""
        changed = await self.db.execute(
            "INSERT INTO summary_runs (period, sent_at) VALUES (?, ?) "
            "ON CONFLICT (period) DO NOTHING",
            (period, now),
        )
        return changed > 0
