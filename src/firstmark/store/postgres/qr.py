"""PostgreSQL queries for QR codes: logos, placements, event schedules, scans and destination
health. The same contract as sqlite_qr.py; rows convert through qrrows.py.

Mixed into PostgresStore. Edits that change where a code leads (placements synced to their
parent, schedules set or removed) NOTIFY the codes involved, so every node drops its cached
answer for them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import asyncpg

from firstmark.domain.dimensions import BREAKDOWNS
from firstmark.domain.linkcheck import Health
from firstmark.domain.links import Link
from firstmark.domain.placements import SHARED, Placement
from firstmark.domain.qrrender import Logo
from firstmark.domain.schedules import Schedule
from firstmark.errors import Conflict, SlugTaken
from firstmark.store.postgres import listen as pg_listen
from firstmark.store.postgres.executor import PostgresConn
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

_PLACEMENT_COLUMNS = (
    "link_id, parent_id, name, venue, medium, quantity, print_cost, currency, starts_on, "
    "ends_on, created_at"
)


def _marks(count: int, first: int = 1) -> str:
    return ", ".join(f"${n}" for n in range(first, first + count))


async def _notify_family(conn: asyncpg.Connection, link_id: int) -> None:
    """Tell every node that a link and its placements may lead elsewhere now."""
    await conn.execute(
        "SELECT pg_notify($1, 'link:' || code) FROM links WHERE id = $2 "
        "OR id IN (SELECT link_id FROM qr_placements WHERE parent_id = $2)",
        pg_listen.CHANNEL,
        link_id,
    )


class PostgresQr:
    if TYPE_CHECKING:

        async def _all(self, sql: str, *args: Any) -> list[Any]: ...
        async def _one(self, sql: str, *args: Any) -> Any: ...
        def _transaction(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...
        async def _write_tags(self, tx: Conn, link_id: int, tags: Sequence[str]) -> None: ...
        async def get_link(self, link_id: int) -> Link | None: ...

    # --- logos ----------------------------------------------------------------------------

    async def insert_logo(self, logo: Logo) -> Logo:
        """Store a logo once: the same bytes uploaded again give back the stored one."""
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO qr_logos (sha256, media_type, data, width, height, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING",
                logo.sha256,
                logo.media_type,
                logo.data,
                logo.width,
                logo.height,
                int(time.time()),
            )
            row = await conn.fetchrow(f"{LOGO_SELECT} WHERE sha256 = $1", logo.sha256)
        return logo_from_row(row)

    async def get_logo(self, logo_id: int) -> Logo | None:
        row = await self._one(f"{LOGO_SELECT} WHERE id = $1", logo_id)
        return None if row is None else logo_from_row(row)

    # --- placements -----------------------------------------------------------------------

    async def insert_placements(self, items: Sequence[tuple[Link, Placement]]) -> list[Placement]:
        """Each placement's link and row, all in one transaction: all are stored or none."""
        ids: list[int] = []
        current: Link | None = None
        try:
            async with self._transaction() as conn:
                for current, p in items:
                    params = link_params(current)
                    link_id = await conn.fetchval(
                        f"INSERT INTO links ({', '.join(params)}) "
                        f"VALUES ({_marks(len(params))}) RETURNING id",
                        *params.values(),
                    )
                    await self._write_tags(PostgresConn(conn), link_id, current.tags)
                    created = epoch(current.created_at) or int(time.time())
                    await conn.execute(
                        f"INSERT INTO qr_placements ({_PLACEMENT_COLUMNS}) VALUES ({_marks(11)})",
                        *placement_values(link_id, p, created),
                    )
                    # A node may have cached "no such code" for it.
                    await pg_listen.notify(PostgresConn(conn), "link", current.code)
                    ids.append(link_id)
        except asyncpg.UniqueViolationError as exc:
            # Statements run one item at a time, so the item that collided is `current`
            # (with an earlier one of the batch, or with a stored link).
            if exc.constraint_name == "links_domain_code" and current is not None:
                raise SlugTaken(current.domain, current.code) from None
            if exc.constraint_name == "qr_placements_parent_name":
                raise Conflict("a placement with that name already exists", field="name") from None
            raise
        found = await self._all(
            f"{PLACEMENT_SELECT} WHERE p.link_id = ANY($1::bigint[]) ORDER BY p.link_id", ids
        )
        return [placement_from_row(r) for r in found]

    async def list_placements(self, parent_id: int) -> list[Placement]:
        rows = await self._all(
            f"{PLACEMENT_SELECT} WHERE p.parent_id = $1 ORDER BY p.link_id", parent_id
        )
        return [placement_from_row(r) for r in rows]

    async def get_placement(self, link_id: int) -> Placement | None:
        row = await self._one(f"{PLACEMENT_SELECT} WHERE p.link_id = $1", link_id)
        return None if row is None else placement_from_row(row)

    async def sync_placements(self, parent: Link) -> list[Link]:
        """Copy the parent's shared fields to each of its placements' links."""
        assert parent.id is not None
        params = link_params(parent)
        shared = [params[name] for name in SHARED]
        sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(SHARED, 1))
        n = len(shared)
        async with self._transaction() as conn:
            rows = await conn.fetch(
                f"UPDATE links SET {sets}, updated_at = ${n + 1}, version = version + 1 "
                f"WHERE id IN (SELECT link_id FROM qr_placements WHERE parent_id = ${n + 2}) "
                "RETURNING id, code",
                *shared,
                int(time.time()),
                parent.id,
            )
            children = sorted((r[0], r[1]) for r in rows)
            for child_id, code in children:
                await self._write_tags(PostgresConn(conn), child_id, parent.tags)
                await pg_listen.notify(PostgresConn(conn), "link", code)
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
        async with self._transaction() as conn:
            await conn.execute(
                f"INSERT INTO qr_events ({SCHEDULE_COLUMNS}) VALUES ({_marks(len(values))}) "
                f"ON CONFLICT (link_id) DO UPDATE SET {updates}",
                *values,
            )
            await _notify_family(conn, schedule.link_id)

    async def get_schedule(self, link_id: int) -> Schedule | None:
        row = await self._one(
            f"SELECT {SCHEDULE_COLUMNS} FROM qr_events WHERE link_id = $1", link_id
        )
        return None if row is None else schedule_from_row(row)

    async def schedule_for_link(self, link_id: int) -> Schedule | None:
        """The schedule of the link itself, or of the link its placement belongs to."""
        row = await self._one(
            f"SELECT {SCHEDULE_COLUMNS} FROM qr_events WHERE link_id = $1 OR link_id = "
            "(SELECT parent_id FROM qr_placements WHERE link_id = $1) "
            "ORDER BY link_id = $1 DESC LIMIT 1",
            link_id,
        )
        return None if row is None else schedule_from_row(row)

    async def delete_schedule(self, link_id: int) -> bool:
        async with self._transaction() as conn:
            status = await conn.execute("DELETE FROM qr_events WHERE link_id = $1", link_id)
            deleted = int(status.rsplit(" ", 1)[-1]) > 0
            if deleted:
                await _notify_family(conn, link_id)
        return deleted

    # --- scans ----------------------------------------------------------------------------

    async def scan_totals(
        self, link_ids: Sequence[int], start: float, end: float
    ) -> dict[int, tuple[int, int]]:
        """Human scans and unique scans per link."""
        if not link_ids:
            return {}
        rows = await self._all(
            "SELECT link_id, sum(hits - bot_hits)::bigint, sum(uniques)::bigint "
            "FROM rollup_hourly WHERE kind = 'scan' AND hour >= $1 AND hour < $2 "
            "AND link_id = ANY($3::bigint[]) GROUP BY link_id",
            int(start // 3600) * 3600,
            -int(-end // 1),  # hour is whole seconds: `hour < end` is `hour < ceil(end)`
            list(link_ids),
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    async def scan_breakdown(
        self, link_ids: Sequence[int], column: str, start: float, end: float, limit: int
    ) -> list[tuple[str | None, int, int]]:
        """Top values of one fact over the human scans of some links, by whole UTC days."""
        check_column(column, BREAKDOWNS, "breakdown")
        if not link_ids:
            return []
        # Ties in the order SQLite gives them: byte order, NULL first.
        rows = await self._all(
            f"SELECT d.{column}, sum(r.hits - r.bot_hits)::bigint, sum(r.uniques)::bigint "
            "FROM rollup_daily r JOIN hit_dims d ON d.id = r.dims_id "
            "WHERE r.link_id = ANY($1::bigint[]) AND r.kind = 'scan' "
            "AND r.day >= $2 AND r.day < $3 AND NOT d.is_bot "
            f'GROUP BY d.{column} ORDER BY 2 DESC, d.{column} COLLATE "C" NULLS FIRST LIMIT $4',
            list(link_ids),
            int(start // 86400),
            -int(-end // 86400),
            limit,
        )
        return [(r[0], r[1], r[2]) for r in rows]

    # --- destination health ---------------------------------------------------------------

    async def record_health(self, results: Sequence[Health]) -> None:
        if not results:
            return
        async with self._transaction() as conn:
            await conn.executemany(
                "INSERT INTO link_health (link_id, checked_at, ok, status, error, final_url, "
                "destination) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (link_id) DO UPDATE "
                "SET checked_at = excluded.checked_at, ok = excluded.ok, "
                "status = excluded.status, error = excluded.error, "
                "final_url = excluded.final_url, destination = excluded.destination",
                [health_values(h) for h in results],
            )

    async def health_for(self, link_ids: Sequence[int]) -> dict[int, Health]:
        if not link_ids:
            return {}
        rows = await self._all(f"{HEALTH_SELECT} WHERE link_id = ANY($1::bigint[])", list(link_ids))
        return {r[0]: health_from_row(r) for r in rows}
