"""PostgreSQL: sites, events, touches, goals and conversions (mixed into PostgresStore).

The same statements as sqlite_events.py and the same row helpers (eventrows.py); events and
touches of a batch go in with one pipelined executemany each, in the batch's transaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import OutboxTarget
from firstmark.domain.events import Event, Touch
from firstmark.domain.goals import Goal
from firstmark.domain.sites import Site
from firstmark.errors import Conflict, NotFound
from firstmark.store.postgres.outbox import insert_outbox
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


def _marks(n: int) -> str:
    return ", ".join(f"${i}" for i in range(1, n + 1))


_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({_marks(len(EVENT_COLUMNS))})"
)
_INSERT_TOUCH = (
    f"INSERT INTO touches ({', '.join(TOUCH_COLUMNS)}) VALUES ({_marks(len(TOUCH_COLUMNS))})"
)
_INSERT_CONVERSION = (
    f"INSERT INTO conversions ({', '.join(CONVERSION_COLUMNS)}) "
    f"VALUES ({_marks(len(CONVERSION_COLUMNS))}) ON CONFLICT DO NOTHING RETURNING id"
)
_INSERT_HOSTS = "INSERT INTO site_hosts (host, site_id) SELECT h, $2 FROM unnest($1::text[]) h"
_HOSTS_KEY = "site_hosts_pkey"  # the constraint a host taken by another site violates


class PostgresEvents:
    """Needs the host store's `_transaction`, `_all`, `_one` and `_value`."""

    def _transaction(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        raise NotImplementedError

    async def _all(self, sql: str, *args: Any) -> list[Any]:
        raise NotImplementedError

    async def _one(self, sql: str, *args: Any) -> Any:
        raise NotImplementedError

    async def _value(self, sql: str, *args: Any) -> Any:
        raise NotImplementedError

    # --- sites ----------------------------------------------------------------------------

    async def insert_site(self, site: Site) -> Site:
        try:
            async with self._transaction() as conn:
                site_id = await conn.fetchval(
                    "INSERT INTO sites (key, name, created_at) VALUES ($1, $2, $3) RETURNING id",
                    site.key,
                    site.name,
                    epoch(site.created_at) or int(time.time()),
                )
                await conn.execute(_INSERT_HOSTS, list(site.hosts), site_id)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == _HOSTS_KEY:
                raise host_taken() from None
            raise
        saved = await self.site_by_key(site.key)
        assert saved is not None
        return saved

    async def set_site_hosts(self, site_id: int, hosts: Sequence[str]) -> Site:
        """Replace a site's hosts (NotFound, or Conflict when one belongs to another site)."""
        try:
            async with self._transaction() as conn:
                # The row lock queues concurrent replacements of one site's hosts.
                key = await conn.fetchval("SELECT key FROM sites WHERE id = $1 FOR UPDATE", site_id)
                if key is None:
                    raise NotFound(f"no site with id {site_id}")
                await conn.execute("DELETE FROM site_hosts WHERE site_id = $1", site_id)
                await conn.execute(_INSERT_HOSTS, list(hosts), site_id)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == _HOSTS_KEY:
                raise host_taken() from None
            raise
        saved = await self.site_by_key(key)
        assert saved is not None
        return saved

    async def _sites(self, where: str, *args: Any) -> list[Site]:
        rows = await self._all(
            f'{SITE_SELECT} {where} ORDER BY s.id, h.host COLLATE "C"',  # SQLite's order
            *args,
        )
        return sites_from_rows(rows)

    async def site_by_key(self, key: str) -> Site | None:
        found = await self._sites("WHERE s.key = $1", key)
        return found[0] if found else None

    async def list_sites(self) -> list[Site]:
        return await self._sites("")

    # --- goals ----------------------------------------------------------------------------

    async def insert_goal(self, goal: Goal) -> Goal:
        try:
            row = await self._one(
                "INSERT INTO goals (name, kind, event_name, default_value, currency, "
                "window_days, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                f"RETURNING {', '.join(GOAL_COLUMNS)}",
                goal.name, goal.kind, goal.event_name, goal.default_value, goal.currency,
                goal.window_days, epoch(goal.created_at) or int(time.time()),
            )  # fmt: skip
        except asyncpg.IntegrityConstraintViolationError:
            raise Conflict(f"a goal named {goal.name!r} exists already", field="name") from None
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
        stored = 0
        async with self._transaction() as conn:
            if events:
                await conn.executemany(_INSERT_EVENT, [event_params(e) for e in events])
            if touches:
                await conn.executemany(_INSERT_TOUCH, [touch_params(t) for t in touches])
                # A touch that arrives after a conversion it belongs to: share the conversion
                # out again at the next report.
                for column, keys in zip(
                    ("visitor_id", "click_token"), stale_keys(touches), strict=True
                ):
                    if keys:
                        ids = STALE[column].format("$1", "$2")
                        for table in ("credited", "attribution_credits"):
                            await conn.executemany(
                                f"DELETE FROM {table} WHERE conversion_id IN ({ids})", keys
                            )
            for conv, targets in paired(conversions, outbox):
                _, duplicate = await _insert_conversion(conn, conv, targets)
                stored += not duplicate
        return stored

    async def count_events(self, site_id: int | None = None) -> int:
        if site_id is None:
            return int(await self._value("SELECT count(*) FROM events"))
        return int(await self._value("SELECT count(*) FROM events WHERE site_id = $1", site_id))

    async def list_events(self, site_id: int, limit: int = 100) -> list[Event]:
        rows = await self._all(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE site_id = $1 "
            "ORDER BY ts DESC, id DESC LIMIT $2",
            site_id,
            limit,
        )
        return [event_from_row(r) for r in rows]

    async def touches_for(
        self, visitor_id: str | None, click_token: str | None, since: float, until: float
    ) -> list[Touch]:
        keys: list[str] = []
        params: list[Any] = []
        if visitor_id is not None:
            params.append(visitor_id)
            keys.append(f"visitor_id = ${len(params)}")
        if click_token is not None:
            params.append(click_token)
            keys.append(f"click_token = ${len(params)}")
        if not keys:
            return []
        n = len(params)
        rows = await self._all(
            f"SELECT id, {', '.join(TOUCH_COLUMNS)} FROM touches "
            f"WHERE ({' OR '.join(keys)}) AND ts >= ${n + 1} AND ts <= ${n + 2} ORDER BY ts, id",
            *params,
            float(since),
            float(until),
        )
        return [touch_from_row(r) for r in rows]

    # --- conversions ----------------------------------------------------------------------

    async def insert_conversions(
        self, conversions: Sequence[Conversion], outbox: Sequence[Sequence[OutboxTarget]] = ()
    ) -> list[tuple[Conversion, bool]]:
        results: list[tuple[int, bool]] = []
        async with self._transaction() as conn:
            for conv, targets in paired(conversions, outbox):
                # The outbox rows of a new conversion go in with it, in this transaction.
                results.append(await _insert_conversion(conn, conv, targets))
        out: list[tuple[Conversion, bool]] = []
        for conv_id, duplicate in results:
            saved = await self.get_conversion(conv_id)
            assert saved is not None
            out.append((saved, duplicate))
        return out

    async def get_conversion(self, conversion_id: int) -> Conversion | None:
        row = await self._one(f"{CONVERSION_SELECT} WHERE c.id = $1", conversion_id)
        return conversion_from_row(row) if row else None

    async def list_conversions(
        self, goal_id: int | None, limit: int, offset: int
    ) -> tuple[list[Conversion], int]:
        where, params = ("WHERE c.goal_id = $1", [goal_id]) if goal_id is not None else ("", [])
        n = len(params)
        total = await self._value(f"SELECT count(*) FROM conversions c {where}", *params)
        rows = await self._all(
            f"{CONVERSION_SELECT} {where} ORDER BY c.ts DESC, c.id DESC "
            f"LIMIT ${n + 1} OFFSET ${n + 2}",
            *params,
            limit,
            offset,
        )
        return [conversion_from_row(r) for r in rows], int(total)


async def _insert_conversion(
    conn: asyncpg.Connection, conv: Conversion, targets: Sequence[OutboxTarget]
) -> tuple[int, bool]:
    """(id, duplicate): a repeated event_id, or order_id for the goal, stores nothing; a new
    conversion gets the outbox rows given for it. A concurrent insert of the same keys waits for
    the other transaction, then finds its row."""
    new_id = await conn.fetchval(_INSERT_CONVERSION, *conversion_params(conv, int(time.time())))
    if new_id is not None:
        await insert_outbox(conn, int(new_id), conv, targets)
        return int(new_id), False
    found = await conn.fetchval(
        "SELECT id FROM conversions WHERE event_id = $1 "
        "OR (goal_id = $2 AND order_id = $3) ORDER BY event_id = $1 DESC LIMIT 1",
        conv.event_id,
        conv.goal_id,
        conv.order_id,
    )
    return int(found), True
