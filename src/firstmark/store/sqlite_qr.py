"""SQLite queries for QR codes: logos, placements, event schedules, scans and destination health.

Mixed into SQLiteStore; kept apart so the link and hit queries stay readable.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import aiosqlite

from firstmark.domain.health import Health
from firstmark.domain.links import Link
from firstmark.domain.placements import SHARED, Placement
from firstmark.domain.qrrender import Logo
from firstmark.domain.schedules import Schedule
from firstmark.errors import Conflict, SlugTaken
from firstmark.store.base import BREAKDOWNS, check_column, epoch, from_epoch, link_params

PLACEMENT_SELECT = (
    "SELECT p.link_id, p.parent_id, p.name, l.code, l.domain, l.utm_content, p.venue, p.medium, "
    "p.quantity, p.print_cost, p.currency, p.starts_on, p.ends_on, p.created_at "
    "FROM qr_placements p JOIN links l ON l.id = p.link_id"
)
SCHEDULE_COLUMNS = (
    "link_id, starts_at, ends_at, before_url, during_url, after_url, retire_at, fallback_url, "
    "summary, updated_at"
)


def _placement(row: Sequence[Any]) -> Placement:
    return Placement(
        link_id=row[0],
        parent_id=row[1],
        name=row[2],
        code=row[3],
        domain=row[4],
        utm_content=row[5],
        venue=row[6],
        medium=row[7],
        quantity=row[8],
        print_cost=None if row[9] is None else Decimal(row[9]),
        currency=row[10],
        starts_on=None if row[11] is None else date.fromisoformat(row[11]),
        ends_on=None if row[12] is None else date.fromisoformat(row[12]),
        created_at=from_epoch(row[13]),
    )


def _schedule(row: Sequence[Any]) -> Schedule:
    starts, ends = from_epoch(row[1]), from_epoch(row[2])
    assert starts is not None and ends is not None
    return Schedule(
        link_id=row[0],
        starts_at=starts,
        ends_at=ends,
        before_url=row[3],
        during_url=row[4],
        after_url=row[5],
        retire_at=from_epoch(row[6]),
        fallback_url=row[7],
        summary=None if row[8] is None else json.loads(row[8]),
        updated_at=from_epoch(row[9]),
    )


def _marks(items: Sequence[Any]) -> str:
    return ", ".join("?" * len(items))


class SQLiteQr:
    if TYPE_CHECKING:

        async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...
        async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
        def _transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...
        async def _write_tags(
            self, conn: aiosqlite.Connection, link_id: int, tags: Sequence[str]
        ) -> None: ...
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
        row = await self._one(
            "SELECT id, media_type, data, width, height, sha256 FROM qr_logos WHERE id = ?",
            (logo_id,),
        )
        if row is None:
            return None
        return Logo(row[1], bytes(row[2]), row[3], row[4], row[5], id=row[0])

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
                    await self._write_tags(conn, link_id, link.tags)
                    await conn.execute(
                        "INSERT INTO qr_placements (link_id, parent_id, name, venue, medium, "
                        "quantity, print_cost, currency, starts_on, ends_on, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            link_id, p.parent_id, p.name, p.venue, p.medium, p.quantity,
                            None if p.print_cost is None else str(p.print_cost), p.currency,
                            None if p.starts_on is None else p.starts_on.isoformat(),
                            None if p.ends_on is None else p.ends_on.isoformat(),
                            epoch(link.created_at) or int(time.time()),
                        ),
                    )  # fmt: skip
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
        return [_placement(r) for r in found]

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
        return [_placement(r) for r in rows]

    async def get_placement(self, link_id: int) -> Placement | None:
        row = await self._one(f"{PLACEMENT_SELECT} WHERE p.link_id = ?", (link_id,))
        return None if row is None else _placement(row)

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
                await self._write_tags(conn, child_id, parent.tags)
        out: list[Link] = []
        for child_id in child_ids:
            child = await self.get_link(child_id)
            assert child is not None
            out.append(child)
        return out

    # --- event schedules ------------------------------------------------------------------

    async def set_schedule(self, schedule: Schedule) -> None:
        values = (
            schedule.link_id, epoch(schedule.starts_at), epoch(schedule.ends_at),
            schedule.before_url, schedule.during_url, schedule.after_url,
            epoch(schedule.retire_at), schedule.fallback_url,
            None if schedule.summary is None else json.dumps(schedule.summary),
            epoch(schedule.updated_at) or int(time.time()),
        )  # fmt: skip
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
        return None if row is None else _schedule(row)

    async def schedule_for_link(self, link_id: int) -> Schedule | None:
        """The schedule of the link itself, or of the link its placement belongs to."""
        row = await self._one(
            f"SELECT {SCHEDULE_COLUMNS} FROM qr_events WHERE link_id = ? OR link_id = "
            "(SELECT parent_id FROM qr_placements WHERE link_id = ?) ORDER BY link_id = ? DESC",
            (link_id, link_id, link_id),
        )
        return None if row is None else _schedule(row)

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
                [
                    (h.link_id, epoch(h.checked_at), h.ok, h.status, h.error, h.final_url,
                     h.destination)
                    for h in results
                ],
            )  # fmt: skip

    async def health_for(self, link_ids: Sequence[int]) -> dict[int, Health]:
        if not link_ids:
            return {}
        rows = await self._all(
            "SELECT link_id, destination, checked_at, ok, status, error, final_url "
            f"FROM link_health WHERE link_id IN ({_marks(link_ids)})",
            list(link_ids),
        )
        out: dict[int, Health] = {}
        for r in rows:
            checked = from_epoch(r[2])
            assert checked is not None
            out[r[0]] = Health(r[0], r[1], checked, bool(r[3]), r[4], r[5], r[6])
        return out
