"""QR codes, the same on both engines: logos, placements, event schedules, scans and
destination health. Rows convert through rows/qr.py.

Edits that change where a code leads (placements added or synced to their parent, schedules
set or removed) tell the engine through `_changed` and `_family_changed`, so that on
PostgreSQL every node drops its cached answer for the codes involved.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from firstmark.domain.dimensions import BREAKDOWNS
from firstmark.domain.linkcheck import Health
from firstmark.domain.links import Link
from firstmark.domain.placements import SHARED, Placement
from firstmark.domain.qrrender import Logo
from firstmark.domain.schedules import Schedule
from firstmark.errors import Conflict, SlugTaken
from firstmark.store.rows.links import link_params
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
from firstmark.store.rows.values import ceil, check_column, day_span, epoch, hour_start
from firstmark.store.sql.executor import Conn, SharedSQL, Violation
from firstmark.store.sql.hits import top_values
from firstmark.store.sql.links import insert_sql

_PLACEMENT_COLUMNS = (
    "link_id, parent_id, name, venue, medium, quantity, print_cost, currency, starts_on, "
    "ends_on, created_at"
)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class QrSQL(SharedSQL):
    if TYPE_CHECKING:

        async def get_link(self, link_id: int) -> Link | None: ...

    async def _family_changed(self, tx: Conn, link_id: int) -> None:
        """Inside the editing transaction: a link and its placements may lead elsewhere now
        (see SharedSQL._changed)."""

    # --- logos ----------------------------------------------------------------------------

    async def insert_logo(self, logo: Logo) -> Logo:
        """Store a logo once: the same bytes uploaded again give back the stored one."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO qr_logos (sha256, media_type, data, width, height, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                (logo.sha256, logo.media_type, logo.data, logo.width, logo.height,
                 int(time.time())),
            )  # fmt: skip
            row = await tx.fetchrow(f"{LOGO_SELECT} WHERE sha256 = ?", (logo.sha256,))
        assert row is not None
        return logo_from_row(row)

    async def get_logo(self, logo_id: int) -> Logo | None:
        row = await self.db.fetchrow(f"{LOGO_SELECT} WHERE id = ?", (logo_id,))
        return None if row is None else logo_from_row(row)

    # --- placements -----------------------------------------------------------------------

    async def insert_placements(self, items: Sequence[tuple[Link, Placement]]) -> list[Placement]:
        """Each placement's link and row, all in one transaction: all are stored or none."""
        ids: list[int] = []
        current: Link | None = None
        try:
            async with self.db.transaction() as tx:
                for current, p in items:
                    params = link_params(current)
                    link_id = await tx.fetchval(insert_sql(list(params)), list(params.values()))
                    await self._write_tags(tx, link_id, current.tags)
                    created = epoch(current.created_at) or int(time.time())
                    await tx.execute(
                        f"INSERT INTO qr_placements ({_PLACEMENT_COLUMNS}) VALUES ({_marks(11)})",
                        placement_values(link_id, p, created),
                    )
                    # A node may have cached "no such code" for it.
                    await self._changed(tx, "link", current.code)
                    ids.append(link_id)
        except Violation as exc:
            # Statements run one item at a time, so the item that collided is `current`
            # (with an earlier one of the batch, or with a stored link).
            if exc.unique("links", "code") and current is not None:
                raise SlugTaken(current.domain, current.code) from None
            if exc.unique("qr_placements", "name"):
                raise Conflict("a placement with that name already exists", field="name") from None
            raise
        among, stored = self.dialect.among("p.link_id", ids)
        found = await self.db.fetch(f"{PLACEMENT_SELECT} WHERE {among} ORDER BY p.link_id", stored)
        return [placement_from_row(r) for r in found]

    async def list_placements(self, parent_id: int) -> list[Placement]:
        rows = await self.db.fetch(
            f"{PLACEMENT_SELECT} WHERE p.parent_id = ? ORDER BY p.link_id", (parent_id,)
        )
        return [placement_from_row(r) for r in rows]

    async def get_placement(self, link_id: int) -> Placement | None:
        row = await self.db.fetchrow(f"{PLACEMENT_SELECT} WHERE p.link_id = ?", (link_id,))
        return None if row is None else placement_from_row(row)

    async def sync_placements(self, parent: Link) -> list[Link]:
        """Copy the parent's shared fields to each of its placements' links (by id)."""
        assert parent.id is not None
        params = link_params(parent)
        sets = ", ".join(f"{name} = ?" for name in SHARED)
        async with self.db.transaction() as tx:
            rows = await tx.fetch(
                f"UPDATE links SET {sets}, updated_at = ?, version = version + 1 "
                "WHERE id IN (SELECT link_id FROM qr_placements WHERE parent_id = ?) "
                "RETURNING id, code",
                (*(params[name] for name in SHARED), int(time.time()), parent.id),
            )
            children = sorted((r[0], r[1]) for r in rows)
            for child_id, code in children:
                await self._write_tags(tx, child_id, parent.tags)
                await self._changed(tx, "link", code)
        out: list[Link] = []
        for child_id, _ in children:
            child = await self.get_link(child_id)
            assert child is not None
            out.append(child)
        return out

    # --- event schedules ------------------------------------------------------------------

    async def set_schedule(self, schedule: Schedule) -> None:
        values = schedule_values(schedule, int(time.time()))
        names = SCHEDULE_COLUMNS.split(", ")
        updates = ", ".join(f"{n} = excluded.{n}" for n in names[1:])
        async with self.db.transaction() as tx:
            await tx.execute(
                f"INSERT INTO qr_events ({SCHEDULE_COLUMNS}) VALUES ({_marks(len(values))}) "
                f"ON CONFLICT (link_id) DO UPDATE SET {updates}",
                values,
            )
            await self._family_changed(tx, schedule.link_id)

    async def get_schedule(self, link_id: int) -> Schedule | None:
        row = await self.db.fetchrow(
            f"SELECT {SCHEDULE_COLUMNS} FROM qr_events WHERE link_id = ?", (link_id,)
        )
        return None if row is None else schedule_from_row(row)

    async def schedule_for_link(self, link_id: int) -> Schedule | None:
        """The schedule of the link itself, or of the link its placement belongs to."""
        row = await self.db.fetchrow(
            f"SELECT {SCHEDULE_COLUMNS} FROM qr_events WHERE link_id = ? OR link_id = "
            "(SELECT parent_id FROM qr_placements WHERE link_id = ?) "
            "ORDER BY link_id = ? DESC LIMIT 1",
            (link_id, link_id, link_id),
        )
        return None if row is None else schedule_from_row(row)

    async def delete_schedule(self, link_id: int) -> bool:
        async with self.db.transaction() as tx:
            deleted = await tx.execute("DELETE FROM qr_events WHERE link_id = ?", (link_id,)) > 0
            if deleted:
                await self._family_changed(tx, link_id)
        return deleted

    # --- scans ----------------------------------------------------------------------------

    async def scan_totals(
        self, link_ids: Sequence[int], start: float, end: float
    ) -> dict[int, tuple[int, int]]:
        """Human scans and unique scans per link."""
        if not link_ids:
            return {}
        among, ids = self.dialect.among("link_id", link_ids)
        rows = await self.db.fetch(
            "SELECT link_id, CAST(sum(hits - bot_hits) AS BIGINT), CAST(sum(uniques) AS BIGINT) "
            f"FROM rollup_hourly WHERE kind = 'scan' AND hour >= ? AND hour < ? AND {among} "
            "GROUP BY link_id",
            [hour_start(start), ceil(end), *ids],
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    async def scan_breakdown(
        self, link_ids: Sequence[int], column: str, start: float, end: float, limit: int
    ) -> list[tuple[str | None, int, int]]:
        """Top values of one fact over the human scans of some links, by whole UTC days."""
        check_column(column, BREAKDOWNS, "breakdown")
        if not link_ids:
            return []
        among, ids = self.dialect.among("r.link_id", link_ids)
        rows = await self.db.fetch(
            top_values(column, f"{among} AND r.kind = 'scan'", self.dialect),
            [*ids, *day_span(start, end), limit],
        )
        return [(r[0], r[1], r[2]) for r in rows]

    # --- destination health ---------------------------------------------------------------

    async def record_health(self, results: Sequence[Health]) -> None:
        if not results:
            return
        async with self.db.transaction() as tx:
            await tx.executemany(
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
        among, ids = self.dialect.among("link_id", link_ids)
        rows = await self.db.fetch(f"{HEALTH_SELECT} WHERE {among}", ids)
        return {r[0]: health_from_row(r) for r in rows}
