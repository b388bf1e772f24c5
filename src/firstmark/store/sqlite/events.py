"""SQLite: sites, events, touches, goals and conversions (mixed into SQLiteStore)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiosqlite

from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import OutboxTarget
from firstmark.domain.events import Event, Touch
from firstmark.domain.goals import Goal
from firstmark.domain.sites import Site
from firstmark.errors import Conflict, NotFound, StoreUnavailable
from firstmark.store.protocol import epoch
from firstmark.store.rows.events import (
    CONVERSION_COLUMNS,
    CONVERSION_SELECT,
    EVENT_COLUMNS,
    GOAL_COLUMNS,
    SITE_SELECT,
    STALE,
    TOUCH_COLUMNS,
    conversion_from_row,
    conversion_params,
    event_from_row,
    event_params,
    goal_from_row,
    host_taken,
    sites_from_rows,
    stale_keys,
    touch_from_row,
    touch_params,
)
from firstmark.store.rows.outbox import paired

_INSERT_CONVERSION = (
    f"INSERT INTO conversions ({', '.join(CONVERSION_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(CONVERSION_COLUMNS))}) ON CONFLICT DO NOTHING RETURNING id"
)


class SQLiteEvents:
    """Needs the host store's `_transaction`, `_all` and `_one`."""

    path: str

    def _transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        raise NotImplementedError

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    async def _insert_outbox(
        self,
        conn: aiosqlite.Connection,
        conversion_id: int,
        conv: Conversion,
        targets: Sequence[OutboxTarget],
    ) -> int:
        raise NotImplementedError

    # --- sites ----------------------------------------------------------------------------

    async def insert_site(self, site: Site) -> Site:
        try:
            async with self._transaction() as conn:
                cur = await conn.execute(
                    "INSERT INTO sites (key, name, created_at) VALUES (?, ?, ?)",
                    (site.key, site.name, epoch(site.created_at) or int(time.time())),
                )
                site_id = cur.lastrowid
                await conn.executemany(
                    "INSERT INTO site_hosts (host, site_id) VALUES (?, ?)",
                    [(h, site_id) for h in site.hosts],
                )
        except sqlite3.IntegrityError as exc:
            if "site_hosts.host" in str(exc):
                raise host_taken() from None
            raise
        saved = await self.site_by_key(site.key)
        assert saved is not None
        return saved

    async def set_site_hosts(self, site_id: int, hosts: Sequence[str]) -> Site:
        """Replace a site's hosts (NotFound, or Conflict when one belongs to another site)."""
        try:
            async with self._transaction() as conn:
                found = await conn.execute_fetchall(
                    "SELECT key FROM sites WHERE id = ?", (site_id,)
                )
                rows = list(found)
                if not rows:
                    raise NotFound(f"no site with id {site_id}")
                await conn.execute("DELETE FROM site_hosts WHERE site_id = ?", (site_id,))
                await conn.executemany(
                    "INSERT INTO site_hosts (host, site_id) VALUES (?, ?)",
                    [(h, site_id) for h in hosts],
                )
        except sqlite3.IntegrityError as exc:
            if "site_hosts.host" in str(exc):
                raise host_taken() from None
            raise
        saved = await self.site_by_key(rows[0][0])
        assert saved is not None
        return saved

    async def _sites(self, where: str, params: Sequence[Any]) -> list[Site]:
        rows = await self._all(f"{SITE_SELECT} {where} ORDER BY s.id, h.host", params)
        return sites_from_rows(rows)

    async def site_by_key(self, key: str) -> Site | None:
        found = await self._sites("WHERE s.key = ?", (key,))
        return found[0] if found else None

    async def list_sites(self) -> list[Site]:
        return await self._sites("", ())

    # --- goals ----------------------------------------------------------------------------

    async def insert_goal(self, goal: Goal) -> Goal:
        try:
            async with self._transaction() as conn:
                await conn.execute(
                    "INSERT INTO goals (name, kind, event_name, default_value, currency, "
                    "window_days, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        goal.name, goal.kind, goal.event_name, goal.default_value, goal.currency,
                        goal.window_days, epoch(goal.created_at) or int(time.time()),
                    ),
                )  # fmt: skip
        except sqlite3.IntegrityError:
            raise Conflict(f"a goal named {goal.name!r} exists already", field="name") from None
        row = await self._one(
            f"SELECT {', '.join(GOAL_COLUMNS)} FROM goals WHERE name = ?", (goal.name,)
        )
        return goal_from_row(row)

    async def list_goals(self) -> list[Goal]:
        rows = await self._all(f"SELECT {', '.join(GOAL_COLUMNS)} FROM goals ORDER BY id")
        return [goal_from_row(r) for r in rows]

    # --- events and touches ---------------------------------------------------------------

    async def write_events(
        self,
        events: Sequence[Event],
        touches: Sequence[Touch],
        conversions: Sequence[Conversion],
        outbox: Sequence[Sequence[OutboxTarget]] = (),
    ) -> int:
        if not events and not touches and not conversions:
            return 0
        try:
            async with self._transaction() as conn:
                await conn.executemany(
                    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
                    [event_params(e) for e in events],
                )
                await conn.executemany(
                    f"INSERT INTO touches ({', '.join(TOUCH_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(TOUCH_COLUMNS))})",
                    [touch_params(t) for t in touches],
                )
                if touches:
                    await self._forget_stale_credits(conn, touches)
                stored = 0
                for conv, targets in paired(conversions, outbox):
                    _, duplicate = await self._insert_conversion(conn, conv, targets)
                    stored += not duplicate
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot write events to {self.path}: {exc}") from None
        return stored

    async def _forget_stale_credits(
        self, conn: aiosqlite.Connection, touches: Sequence[Touch]
    ) -> None:
        """A touch that arrives after a conversion it belongs to: share the conversion out
        again at the next report."""
        for column, keys in zip(("visitor_id", "click_token"), stale_keys(touches), strict=True):
            if not keys:
                continue
            ids = STALE[column].format("?", "?")
            for table in ("credited", "attribution_credits"):
                await conn.executemany(f"DELETE FROM {table} WHERE conversion_id IN ({ids})", keys)

    async def count_events(self, site_id: int | None = None) -> int:
        if site_id is None:
            return int((await self._one("SELECT count(*) FROM events"))[0])
        row = await self._one("SELECT count(*) FROM events WHERE site_id = ?", (site_id,))
        return int(row[0])

    async def list_events(self, site_id: int, limit: int = 100) -> list[Event]:
        rows = await self._all(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE site_id = ? "
            "ORDER BY ts DESC, id DESC LIMIT ?",
            (site_id, limit),
        )
        return [event_from_row(r) for r in rows]

    async def touches_for(
        self, visitor_id: str | None, click_token: str | None, since: float, until: float
    ) -> list[Touch]:
        keys, params = [], []
        if visitor_id is not None:
            keys.append("visitor_id = ?")
            params.append(visitor_id)
        if click_token is not None:
            keys.append("click_token = ?")
            params.append(click_token)
        if not keys:
            return []
        rows = await self._all(
            f"SELECT id, {', '.join(TOUCH_COLUMNS)} FROM touches "
            f"WHERE ({' OR '.join(keys)}) AND ts >= ? AND ts <= ? ORDER BY ts, id",
            [*params, since, until],
        )
        return [touch_from_row(r) for r in rows]

    # --- conversions ----------------------------------------------------------------------

    async def _insert_conversion(
        self, conn: aiosqlite.Connection, conv: Conversion, targets: Sequence[OutboxTarget]
    ) -> tuple[int, bool]:
        """(id, duplicate): a repeated event_id, or order_id for the goal, stores nothing; a new
        conversion gets the outbox rows given for it."""
        rows = list(
            await conn.execute_fetchall(
                _INSERT_CONVERSION, conversion_params(conv, int(time.time()))
            )
        )
        if rows:
            conv_id = int(rows[0][0])
            await self._insert_outbox(conn, conv_id, conv, targets)
            return conv_id, False
        found = list(
            await conn.execute_fetchall(
                "SELECT id FROM conversions WHERE event_id = ? "
                "OR (goal_id = ? AND order_id = ?) ORDER BY event_id = ? DESC LIMIT 1",
                (conv.event_id, conv.goal_id, conv.order_id, conv.event_id),
            )
        )
        return int(found[0][0]), True

    async def insert_conversions(
        self, conversions: Sequence[Conversion], outbox: Sequence[Sequence[OutboxTarget]] = ()
    ) -> list[tuple[Conversion, bool]]:
        results: list[tuple[int, bool]] = []
        async with self._transaction() as conn:
            for conv, targets in paired(conversions, outbox):
                # The outbox rows of a new conversion go in with it, in this transaction.
                results.append(await self._insert_conversion(conn, conv, targets))
        out: list[tuple[Conversion, bool]] = []
        for conv_id, duplicate in results:
            saved = await self.get_conversion(conv_id)
            assert saved is not None
            out.append((saved, duplicate))
        return out

    async def get_conversion(self, conversion_id: int) -> Conversion | None:
        row = await self._one(f"{CONVERSION_SELECT} WHERE c.id = ?", (conversion_id,))
        return conversion_from_row(row) if row else None

    async def list_conversions(
        self, goal_id: int | None, limit: int, offset: int
    ) -> tuple[list[Conversion], int]:
        where, params = ("WHERE c.goal_id = ?", [goal_id]) if goal_id is not None else ("", [])
        total = (await self._one(f"SELECT count(*) FROM conversions c {where}", params))[0]
        rows = await self._all(
            f"{CONVERSION_SELECT} {where} ORDER BY c.ts DESC, c.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [conversion_from_row(r) for r in rows], int(total)
