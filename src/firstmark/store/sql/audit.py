"""The audit log, the same on both engines."""

from __future__ import annotations

import json
import time
from typing import Any

from firstmark.domain.audit import Entry, Query
from firstmark.store.sql.executor import SharedSQL

COLUMNS = "id, ts, actor, action, object_kind, object_id, detail"


class AuditSQL(SharedSQL):
    async def insert_audit(self, entry: Entry) -> None:
        await self.db.execute(
            "INSERT INTO audit (ts, actor, action, object_kind, object_id, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                entry.ts or time.time(),
                entry.actor,
                entry.action,
                entry.object_kind,
                entry.object_id,
                entry.detail_json(),
            ),
        )

    async def list_audit(self, query: Query) -> tuple[list[Entry], int]:
        """Newest first, and how many match."""
        where: list[str] = []
        params: list[Any] = []
        for column in ("actor", "action", "object_kind", "object_id"):
            value = getattr(query, column)
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.start is not None:
            where.append("ts >= ?")
            params.append(query.start)
        if query.end is not None:
            where.append("ts < ?")
            params.append(query.end)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        total = int(await self.db.fetchval(f"SELECT count(*) FROM audit{clause}", params))
        rows = await self.db.fetch(
            f"SELECT {COLUMNS} FROM audit{clause} ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
        return [
            Entry(
                id=int(r[0]),
                ts=float(r[1]),
                actor=r[2],
                action=r[3],
                object_kind=r[4],
                object_id=r[5],
                detail=json.loads(r[6]),
            )
            for r in rows
        ], total
