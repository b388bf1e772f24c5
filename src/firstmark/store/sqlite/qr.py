"""SQLite queries for QR codes: logos, placements, event schedules, scans and destination health.

Mixed into SQLiteStore; kept apart so the link and hit queries stay readable.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import aiosqlite

from firstmark.domain.dimensions import BREAKDOWNS
from firstmark.domain.linkcheck import Health
from firstmark.domain.links import Link
from firstmark.domain.placements import SHARED, Placement
from firstmark.domain.qrrender import Logo
from firstmark.domain.schedules import Schedule
from firstmark.errors import Conflict, SlugTaken
from firstmark.store.protocol import check_column, epoch, link_params
from firstmark.store.rows.qr import (
    HEALTH_SELECT,
    LOGO_SELECT,
    PLACEMENT_SELECT,
    SCHEDULE_COLUMNS,
    health_from_row,
    health_values,
    logo_from_row,
    placement_from_row,
    placement_values,
    schedule_from_row,
    schedule_values,
)
from firstmark.store.sql.executor import Conn
from firstmark.store.sqlite.executor import SQLiteConn


def _marks(items: Sequence[Any]) -> str:
    return ", ".join("?" * len(items))


class SQLiteQr:
    if TYPE_CHECKING:

        async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...
        async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
        def _transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...
        async def _write_tags(self, tx: Conn, link_id: int, tags: Sequence[str]) -> None: ...
        async def get_link(self, link_id: int) -> Link | None: ...

    # --- logos ----------------------------------------------------------------------------

    async def insert_logo(self, logo: Logo) -> Logo:
        """Store a logo once: the same bytes uploaded again give back the stored one."""
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO qr_logos (sha256, media_type, data, width, height, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                (
                    logo.sha256,
                    logo.media_type,
                    logo.data,
                    logo.width,
                    logo.height,
                    int(time.time()),
                ),
            )
        row = await self._one("SELECT id FROM qr_logos WHERE sha256 = ?", (logo.sha256,))
        found = await self.get_logo(row[0])
        assert found is not None
        return found

    async def get_logo(self, logo_id: int) -> Logo | None:
        row = await self._one(f"{LOGO_SELECT} WHERE id = ?", (logo_id,))
        return None if row is None else logo_from_row(row)

    # --- placements -----------------------------------------------------------------------

    async def insert_placements(self, items: Sequence[tuple[Link, Placement]]) -> list[Placement]:
        """Each placement's link and row, all in one transaction: all are stored or none."""
        ids: list[int] = []
        try:
            async with self._transaction() as conn:
                for link, p in items:
                    params = link_params(link)
                    cur = await conn.execute(
                        f"INSERT INTO links ({', '.join(params)}) "
                        f"VALUES ({', '.join(':' + n for n in params)})",
                        params,
                    )
                    link_id = cur.lastrowid
                    assert link_id is not None
                    await self._write_tags(SQLiteConn(conn), link_id, link.tags)
                    await conn.execute(
                        "INSERT INTO qr_placements (link_id, parent_id, name, venue, medium, "
                        "quantity, print_cost, currency, starts_on, ends_on, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        placement_values(link_id, p, epoch(link.created_at) or int(time.time())),
                    )
                    ids.append(link_id)
        except sqlite3.IntegrityError as exc:
            text = str(exc)
            if "links.code" in text:
                raise await self._taken(items) from None
            if "qr_placements.parent_id" in text:
                raise Conflict("a placement with that name already exists", field="name") from None
            raise
        found = await self._all(
            f"{PLACEMENT_SELECT} WHERE p.link_id IN ({_marks(ids)}) ORDER BY p.link_id", ids
        )
        return [placement_from_row(r) for r in found]

    async def _taken(self, items: Sequence[tuple[Link, Placement]]) -> SlugTaken:
        """SQLite does not say which code collided: look for the first one already stored
        (or repeated within the batch)."""
        seen: set[tuple[str, str]] = set()
        for link, _ in items:
            key = (link.domain, link.code)
            if key in seen:
                return SlugTaken(link.domain, link.code)
            seen.add(key)
            row = await self._one(
                "SELECT 1 FROM links WHERE domain = ? AND code = ?", (link.domain, link.code)
            )
            if row is not None:
                return SlugTaken(link.domain, link.code)
        return SlugTaken(items[0][0].domain, items[0][0].code)

    async def list_placements(self, parent_id: int) -> list[Placement]:
        rows = await self._all(
            f"{PLACEMENT_SELECT} WHERE p.parent_id = ? ORDER BY p.link_id", (parent_id,)
        )
        return [placement_from_row(r) for r in rows]

    async def get_placement(self, link_id: int) -> Placement | None:
        row = await self._one(f"{PLACEMENT_SELECT} WHERE p.link_id = ?", (link_id,))
        return None if row is None else placement_from_row(row)

    async def sync_placements(self, parent: Link) -> list[Link]:
        """Copy the parent's shared fields to each of its placements' links."""
        assert parent.id is not None
        params = link_params(parent)
        shared = {name: params[name] for name in SHARED}
        sets = ", ".join(f"{name} = :{name}" for name in shared)
        async with self._transaction() as conn:
            await conn.execute(
                f"UPDATE links SET {sets}, updated_at = :now, version = version + 1 "
                "WHERE id IN (SELECT link_id FROM qr_placements WHERE parent_id = :parent)",
                {**shared, "now": int(time.time()), "parent": parent.id},
            )
            rows = await conn.execute_fetchall(
                "SELECT link_id FROM qr_placements WHERE parent_id = ?", (parent.id,)
            )
            child_ids = [r[0] for r in rows]
            for child_id in child_ids:
                await self._write_tags(SQLiteConn(conn), child_id, parent.tags)
        out: list[Link] = []
        for child_id in child_ids:
            child = await self.get_link(child_id)
            assert child is not None
            out.append(child)
        return out

    # --- event schedules ------------------------------------------------------------------

    async def set_schedule(self, schedule: Schedule) -> None:
        values = schedule_values(schedule, int(time.time()))
        names = SCHEDULE_COLUMNS.split(", ")
        updates = ", ".join(f"{n} = excluded.{n}" for n in names[1:])
        async with self._transaction() as conn:
            await conn.execute(
                f"INSERT INTO qr_events ({SCHEDULE_COLUMNS}) VALUES ({_marks(values)}) "
                f"ON CONFLICT (link_id) DO UPDATE SET {updates}",
                values,
            )

    async def get_schedule(self, link_id: int) -> Schedule | None:
        row = await self._one(
            f"SELECT {SCHEDULE_COLUMNS} FROM qr_events WHERE link_id = ?", (link_id,)
        )
        return None if row is None else schedule_from_row(row)

    async def schedule_for_link(self, link_id: int) -> Schedule | None:
        """The schedule of the link itself, or of the link its placement belongs to."""
        row = await self._one(
            f"SELECT {SCHEDULE_COLUMNS} FROM qr_events WHERE link_id = ? OR link_id = "
            "(SELECT parent_id FROM qr_placements WHERE link_id = ?) ORDER BY link_id = ? DESC",
            (link_id, link_id, link_id),
        )
        return None if row is None else schedule_from_row(row)

    async def delete_schedule(self, link_id: int) -> bool:
        async with self._transaction() as conn:
            cur = await conn.execute("DELETE FROM qr_events WHERE link_id = ?", (link_id,))
            return cur.rowcount > 0

    # --- scans ----------------------------------------------------------------------------

    async def scan_totals(
        self, link_ids: Sequence[int], start: float, end: float
    ) -> dict[int, tuple[int, int]]:
        """Human scans and unique scans per link."""
        if not link_ids:
            return {}
        rows = await self._all(
            "SELECT link_id, sum(hits - bot_hits), sum(uniques) FROM rollup_hourly "
            f"WHERE kind = 'scan' AND hour >= ? AND hour < ? AND link_id IN ({_marks(link_ids)}) "
            "GROUP BY link_id",
            [int(start // 3600) * 3600, end, *link_ids],
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    async def scan_breakdown(
        self, link_ids: Sequence[int], column: str, start: float, end: float, limit: int
    ) -> list[tuple[str | None, int, int]]:
        """Top values of one fact over the human scans of some links, by whole UTC days."""
        check_column(column, BREAKDOWNS, "breakdown")
        if not link_ids:
            return []
        rows = await self._all(
            f"SELECT d.{column}, sum(r.hits - r.bot_hits), sum(r.uniques) "
            "FROM rollup_daily r JOIN hit_dims d ON d.id = r.dims_id "
            f"WHERE r.link_id IN ({_marks(link_ids)}) AND r.kind = 'scan' "
            "AND r.day >= ? AND r.day < ? AND d.is_bot = 0 "
            f"GROUP BY d.{column} ORDER BY 2 DESC, 1 LIMIT ?",
            [*link_ids, int(start // 86400), -int(-end // 86400), limit],
        )
        return [(r[0], r[1], r[2]) for r in rows]

    # --- destination health ---------------------------------------------------------------

    async def record_health(self, results: Sequence[Health]) -> None:
        async with self._transaction() as conn:
            await conn.executemany(
                "INSERT INTO link_health (link_id, checked_at, ok, status, error, final_url, "
                "destination) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (link_id) DO UPDATE SET "
                "checked_at = excluded.checked_at, ok = excluded.ok, status = excluded.status, "
                "error = excluded.error, final_url = excluded.final_url, "
                "destination = excluded.destination",
                [health_values(h) for h in results],
            )

    async def health_for(self, link_ids: Sequence[int]) -> dict[int, Health]:
        if not link_ids:
            return {}
        rows = await self._all(
            f"{HEALTH_SELECT} WHERE link_id IN ({_marks(link_ids)})", list(link_ids)
        )
        return {r[0]: health_from_row(r) for r in rows}
