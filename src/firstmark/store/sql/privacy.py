"""Erasure, access and consent figures, the same on both engines.

The maps of what links to what are data in domain/privacy.py; this module runs them: find
every linked value (one transaction, bounded), then export the linked rows or erase them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from firstmark.domain import privacy, webhooks
from firstmark.domain.privacy import ACTIONS, FINDS, ID_CLASSES, KEPT, Action, Linked
from firstmark.errors import Conflict
from firstmark.store.sql.executor import Conn, Row, SharedSQL

# At most this many rows of one table in an export; the document says when it stopped.
EXPORT_ROWS = 10_000
# Derived webhook message ids asked per statement (one per endpoint, event type and event id).
MESSAGE_IDS_PER_ASK = 1000
# Columns an export never shows as stored: client data sealed for a platform.
SEALED = {"sealed_client": "(sealed client data: erased when the row is sent or dead)"}


def _bind(cls: str, values: Iterable[str]) -> list[Any]:
    return [int(v) for v in values] if cls in ID_CLASSES else list(values)


def _linked_where(
    where: Mapping[str, str], linked: Linked, prefix: str = ""
) -> tuple[str, list[Any]]:
    """`col IN (...) OR ...` over the columns that hold a linked class; ('', []) when none."""
    parts: list[str] = []
    params: list[Any] = []
    for column, cls in where.items():
        values = linked.get(cls)
        if values:
            parts.append(f"{prefix}{column} IN ({', '.join('?' * len(values))})")
            params += _bind(cls, values)
    return " OR ".join(parts), params


class PrivacySQL(SharedSQL):
    # --- finding --------------------------------------------------------------------------

    async def _find(self, tx: Conn, linked: Linked) -> None:
        """Follow FINDS until nothing new turns up, or the bound is reached."""
        asked: set[tuple[int, str]] = set()
        endpoints: list[int] | None = None
        for _ in range(privacy.MAX_ROUNDS):
            grew = False
            for n, find in enumerate(FINDS):
                values = [v for v in linked.get(find.matches) if (n, v) not in asked]
                if not values:
                    continue
                asked.update((n, v) for v in values)
                columns = list(find.leads)
                if find.message_id:
                    if endpoints is None:
                        endpoints = await self._webhook_endpoint_ids(tx)
                    rows = await self._webhook_messages(tx, find, endpoints, values)
                else:
                    if find.contains:
                        where = " OR ".join(f"{find.column} LIKE ?" for _ in values)
                        params: list[Any] = [privacy.json_contains(v) for v in values]
                    else:
                        where = f"{find.column} IN ({', '.join('?' * len(values))})"
                        params = _bind(find.matches, values)
                    rows = await tx.fetch(
                        f"SELECT DISTINCT {', '.join(columns)} FROM {find.table} WHERE {where} "
                        f"LIMIT {privacy.MAX_LINKED + 1}",
                        params,
                    )
                for row in rows:
                    for column, value in zip(columns, row, strict=True):
                        grew = linked.add(find.leads[column], value) or grew
                if linked.truncated:
                    return
            if not grew:
                return

    @staticmethod
    async def _webhook_endpoint_ids(tx: Conn) -> list[int]:
        """Every endpoint, enabled or not: a message may wait for one that is disabled."""
        return [int(r[0]) for r in await tx.fetch("SELECT id FROM webhook_endpoints")]

    @staticmethod
    async def _webhook_messages(
        tx: Conn, find: privacy.Find, endpoints: Sequence[int], event_ids: Sequence[str]
    ) -> list[Row]:
        """The webhook messages about these conversions, by their derived ids (the unique
        index on msg_id), a bounded number of ids per statement."""
        ids = webhooks.conversion_message_ids(endpoints, event_ids)
        rows: list[Row] = []
        for start in range(0, len(ids), MESSAGE_IDS_PER_ASK):
            chunk = ids[start : start + MESSAGE_IDS_PER_ASK]
            rows += await tx.fetch(
                f"SELECT {', '.join(find.leads)} FROM {find.table} "
                f"WHERE {find.column} IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
        return rows

    async def privacy_linked(self, subject: privacy.Subject) -> Linked:
        """Everything linked to a person's identifier (read only)."""
        linked = Linked.of(subject)
        async with self.db.transaction() as tx:
            await self._find(tx, linked)
        return linked

    # --- access ---------------------------------------------------------------------------

    async def privacy_export(self, subject: privacy.Subject) -> tuple[Linked, dict[str, Any]]:
        """Every linked row of every table, as column → value objects."""
        linked = Linked.of(subject)
        out: dict[str, Any] = {}
        tables: dict[str, list[str]] = await self.tables()  # type: ignore[attr-defined]
        async with self.db.transaction() as tx:
            await self._find(tx, linked)
            wheres: dict[str, Mapping[str, str]] = {a.table: a.where for a in ACTIONS}
            for action in ACTIONS:
                for child, column in action.children.items():
                    wheres[child] = {column: next(iter(action.where.values()))}
            for table, cls in KEPT.items():
                wheres[table] = {"conversion_id": cls}
            for table, where in wheres.items():
                clause, params = _linked_where(where, linked)
                if not clause:
                    continue
                columns = tables[table]
                rows = await tx.fetch(
                    f"SELECT {', '.join(columns)} FROM {table} WHERE {clause} "
                    f"LIMIT {EXPORT_ROWS + 1}",
                    params,
                )
                if rows:
                    out[table] = [_shown(columns, r) for r in rows[:EXPORT_ROWS]]
                if len(rows) > EXPORT_ROWS:
                    linked.truncated = True
        return linked, out

    # --- erasure --------------------------------------------------------------------------

    async def privacy_erase(
        self, subject: privacy.Subject
    ) -> tuple[Linked, dict[str, dict[str, int]]]:
        """Delete or anonymise every linked row (ACTIONS), in one transaction; the counts per
        table. Rollups are not touched."""
        linked = Linked.of(subject)
        counts: dict[str, dict[str, int]] = {}
        stand_ins: dict[str, dict[str, str]] = {}

        def note(table: str, what: str, n: int) -> None:
            if n:
                counts.setdefault(table, {}).setdefault(what, 0)
                counts[table][what] += n

        async with self.db.transaction() as tx:
            await self._find(tx, linked)
            if linked.truncated:
                # A partial erasure would leave the rest unreachable: refuse, change nothing.
                raise Conflict(
                    f"more than {privacy.MAX_LINKED:,} values are linked to this identifier; "
                    "nothing was erased",
                    field="value",
                    code="too_many_linked",
                )
            for table, cls in KEPT.items():
                clause, params = _linked_where({"conversion_id": cls}, linked)
                if clause:
                    n = await tx.fetchval(f"SELECT count(*) FROM {table} WHERE {clause}", params)
                    note(table, "kept", int(n))
            for action in ACTIONS:
                clause, params = _linked_where(action.where, linked)
                if not clause:
                    continue
                if action.delete:
                    deleted = await self._delete(tx, action, clause, params, note)
                    note(action.table, "deleted", deleted)
                    if not action.only:
                        continue
                    only = ", ".join(f"'{s}'" for s in action.only)
                    clause = f"({clause}) AND {action.status_column} NOT IN ({only})"
                changed = await self._anonymise(tx, action, clause, params, linked, stand_ins)
                note(action.table, "anonymised", changed)
        return linked, counts

    async def _delete(
        self, tx: Conn, action: Action, clause: str, params: list[Any], note: Any
    ) -> int:
        if action.only:
            only = ", ".join(f"'{s}'" for s in action.only)
            clause = f"({clause}) AND {action.status_column} IN ({only})"
        for child, column in action.children.items():
            n = await tx.execute(
                f"DELETE FROM {child} WHERE {column} IN "
                f"(SELECT id FROM {action.table} WHERE {clause})",
                params,
            )
            note(child, "deleted", n)
        return await tx.execute(f"DELETE FROM {action.table} WHERE {clause}", params)

    async def _anonymise(
        self,
        tx: Conn,
        action: Action,
        clause: str,
        params: list[Any],
        linked: Linked,
        stand_ins: dict[str, dict[str, str]],
    ) -> int:
        sets: list[str] = []
        values: list[Any] = []
        for column, constant in action.clear.items():
            sets.append(f"{column} = ?")
            values.append(constant)
        for column, classes in action.replace.items():
            mapping: dict[str, str] = {}
            for cls in classes:
                found = stand_ins.setdefault(cls, {})
                for old in linked.get(cls):
                    found.setdefault(old, privacy.stand_in(cls, secrets.token_hex(16)))
                mapping.update(found)
            if not mapping:
                continue
            whens = " ".join("WHEN ? THEN ?" for _ in mapping)
            sets.append(f"{column} = CASE {column} {whens} ELSE {column} END")
            for old, new in mapping.items():
                values += [old, new]
        if not sets:
            return 0
        return await tx.execute(
            f"UPDATE {action.table} SET {', '.join(sets)} WHERE {clause}", [*values, *params]
        )

    # --- consent figures ------------------------------------------------------------------

    async def consent_counts(
        self, start: float, end: float, site_id: int | None = None
    ) -> dict[str, dict[str, int]]:
        """Per consent state (the events' labels): visits, events with a visitor id, and
        conversions, those with hashed user data and those sent to a platform."""
        site = " AND site_id = ?" if site_id is not None else ""
        c_site = " AND c.site_id = ?" if site_id is not None else ""
        extra: list[Any] = [site_id] if site_id is not None else []
        out: dict[str, dict[str, int]] = {}

        def add(state: str, key: str, n: int) -> None:
            row = out.setdefault(
                state,
                {"visits": 0, "identified_events": 0, "conversions": 0, "user_data": 0, "sent": 0},
            )
            row[key] += int(n or 0)

        for consent, visits in await self.db.fetch(
            "SELECT consent, count(*) FROM (SELECT DISTINCT consent, site_id, visit_key, "
            "visit_started FROM events WHERE ts >= ? AND ts < ? AND visit_key IS NOT NULL "
            f"AND NOT is_bot{site}) v GROUP BY consent",
            [start, end, *extra],
        ):
            for state in _states(consent):
                add(state, "visits", visits)
        for consent, identified in await self.db.fetch(
            "SELECT consent, count(visitor_id) FROM events WHERE ts >= ? AND ts < ? "
            f"AND NOT is_bot{site} GROUP BY consent",
            [start, end, *extra],
        ):
            for state in _states(consent):
                add(state, "identified_events", identified)
        for consent, n, hashed, sent in await self.db.fetch(
            "SELECT c.consent, count(*), "
            "sum(CASE WHEN c.user_data != '{}' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.conversion_id = c.id "
            "AND o.status = 'sent') THEN 1 ELSE 0 END) "
            f"FROM conversions c WHERE c.ts >= ? AND c.ts < ?{c_site} "
            "GROUP BY c.consent",
            [start, end, *extra],
        ):
            state = privacy.conversion_state(json.loads(consent))
            add(state, "conversions", n)
            add(state, "user_data", hashed)
            add(state, "sent", sent)
        return out


def _shown(columns: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column, value in zip(columns, row, strict=True):
        if column in SEALED and value is not None:
            value = SEALED[column]
        elif isinstance(value, bytes | bytearray | memoryview):
            value = bytes(value).hex()
        out[column] = value
    return out


def _states(label: str) -> tuple[str, ...]:
    """The rows an event's recorded consent counts in: its state, and TCF when it decided."""
    state, tcf = privacy.recorded_state(label)
    return (state, "tcf") if tcf else (state,)
