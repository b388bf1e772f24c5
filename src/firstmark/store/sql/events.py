"""Sites, goals, events, touches and conversions, the same on both engines (rows/events.py
shapes the rows). A conversion's outbox rows go in with it, in its transaction, through the
outbox's `_insert_outbox`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import OutboxTarget
from firstmark.domain.events import Event, Touch
from firstmark.domain.goals import Goal
from firstmark.domain.sites import Site
from firstmark.domain.visits import Visit
from firstmark.errors import Conflict, NotFound
from firstmark.store.rows.eventrollup import DIRTY_DIM as EVENTS_DIM
from firstmark.store.rows.events import (
    CONVERSION_COLUMNS,
    CONVERSION_SELECT,
    EVENT_COLUMNS,
    GOAL_COLUMNS,
    SITE_SELECT,
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
from firstmark.store.rows.funnelrollup import DIRTY_DIM
from firstmark.store.rows.outbox import paired
from firstmark.store.rows.values import epoch
from firstmark.store.rows.webrollup import ALL_DIMS
from firstmark.store.sql.executor import Conn, SharedSQL, Violation

STALE_CHUNK = 500  # visitor ids, click tokens or conversion ids per statement


def _insert(table: str, columns: Sequence[str], tail: str = "") -> str:
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}){tail}"
    )


_INSERT_EVENT = _insert("events", EVENT_COLUMNS)
_INSERT_TOUCH = _insert("touches", TOUCH_COLUMNS)
_INSERT_GOAL = _insert("goals", GOAL_COLUMNS[1:], f" RETURNING {', '.join(GOAL_COLUMNS)}")
_INSERT_CONVERSION = _insert(
    "conversions", CONVERSION_COLUMNS, " ON CONFLICT DO NOTHING RETURNING id"
)
# The conversion a repeated event_id, or order_id for the goal, stands for.
_STORED_CONVERSION = (
    "SELECT id FROM conversions WHERE event_id = ? "
    "OR (goal_id = ? AND order_id = ?) ORDER BY event_id = ? DESC LIMIT 1"
)


class EventSQL(SharedSQL):
    if TYPE_CHECKING:

        async def _upsert_visits(self, tx: Conn, visits: Sequence[Visit]) -> None: ...

    # Report dimensions as (links column, conversions column): its engine's ReportSQL's.
    dimensions: dict[str, tuple[str, str]]

    # --- sites ----------------------------------------------------------------------------

    async def _add_hosts(self, tx: Conn, site_id: int, hosts: Sequence[str]) -> None:
        if hosts:
            await tx.executemany(
                "INSERT INTO site_hosts (host, site_id) VALUES (?, ?)",
                [(h, site_id) for h in hosts],
            )

    async def insert_site(self, site: Site) -> Site:
        try:
            async with self.db.transaction() as tx:
                site_id = await tx.fetchval(
                    "INSERT INTO sites (key, name, created_at) VALUES (?, ?, ?) RETURNING id",
                    (site.key, site.name, epoch(site.created_at) or int(time.time())),
                )
                await self._add_hosts(tx, site_id, site.hosts)
        except Violation as exc:
            if exc.unique("site_hosts", "host"):
                raise host_taken() from None
            raise
        saved = await self.site_by_key(site.key)
        assert saved is not None
        return saved

    async def set_site_hosts(self, site_id: int, hosts: Sequence[str]) -> Site:
        """Replace a site's hosts (NotFound, or Conflict when one belongs to another site)."""
        try:
            async with self.db.transaction() as tx:
                # The row lock queues concurrent replacements of one site's hosts.
                key = await tx.fetchval(
                    f"SELECT key FROM sites WHERE id = ?{self.dialect.for_update}", (site_id,)
                )
                if key is None:
                    raise NotFound(f"no site with id {site_id}")
                await tx.execute("DELETE FROM site_hosts WHERE site_id = ?", (site_id,))
                await self._add_hosts(tx, site_id, hosts)
        except Violation as exc:
            if exc.unique("site_hosts", "host"):
                raise host_taken() from None
            raise
        saved = await self.site_by_key(key)
        assert saved is not None
        return saved

    async def _sites(self, where: str, params: Sequence[Any]) -> list[Site]:
        rows = await self.db.fetch(
            f"{SITE_SELECT} {where} ORDER BY s.id, h.host{self.dialect.collate}", params
        )
        return sites_from_rows(rows)

    async def site_by_key(self, key: str) -> Site | None:
        found = await self._sites("WHERE s.key = ?", (key,))
        return found[0] if found else None

    async def list_sites(self) -> list[Site]:
        return await self._sites("", ())

    # --- goals ----------------------------------------------------------------------------

    async def insert_goal(self, goal: Goal) -> Goal:
        try:
            rows = await self.db.write(
                _INSERT_GOAL,
                (
                    goal.name, goal.kind, goal.event_name, goal.default_value, goal.currency,
                    goal.window_days, epoch(goal.created_at) or int(time.time()),
                ),
            )  # fmt: skip
        except Violation as exc:
            if exc.unique("goals", "name"):
                raise Conflict(f"a goal named {goal.name!r} exists already", field="name") from None
            raise
        return goal_from_row(rows[0])

    async def list_goals(self) -> list[Goal]:
        rows = await self.db.fetch(f"SELECT {', '.join(GOAL_COLUMNS)} FROM goals ORDER BY id")
        return [goal_from_row(r) for r in rows]

    # --- events and touches ---------------------------------------------------------------

    async def write_events(
        self,
        events: Sequence[Event],
        touches: Sequence[Touch],
        conversions: Sequence[Conversion],
        outbox: Sequence[Sequence[OutboxTarget]] = (),
        visits: Sequence[Visit] = (),
    ) -> int:
        """One transaction: the events, the touches (and the credits they make stale), the
        new conversions with their outbox rows, and the visits they changed. Returns the
        conversions stored."""
        if not events and not touches and not conversions and not visits:
            return 0
        stored = 0
        async with self.db.transaction() as tx:
            if events:
                await tx.executemany(_INSERT_EVENT, [event_params(e) for e in events])
            if touches:
                await tx.executemany(_INSERT_TOUCH, [touch_params(t) for t in touches])
                await self._forget_stale_credits(tx, touches)
            for conv, targets in paired(conversions, outbox):
                _, duplicate = await self._insert_conversion(tx, conv, targets)
                stored += not duplicate
            if visits:
                await self._upsert_visits(tx, visits)
                # The web rollups rebuild these days (and later ones) at the next report, or
                # the rollup refresher's next round; the first mark's time is kept.
                clock, now = self.dialect.now()
                await tx.executemany(
                    "INSERT INTO web_dirty (site_id, day, dim, marked_at) "
                    f"VALUES (?, ?, ?, {clock}) ON CONFLICT DO NOTHING",
                    [(*d, dim, *now) for d in sorted({(v.site_id, v.day) for v in visits})
                     for dim in (*ALL_DIMS, DIRTY_DIM, EVENTS_DIM)],
                )  # fmt: skip
        return stored

    async def _forget_stale_credits(self, tx: Conn, touches: Sequence[Touch]) -> None:
        """A touch that arrives after a conversion it belongs to: share the conversion out
        again at the next report. The batch's visitors and click tokens are looked up at
        once; most touches are new visitors with no conversion, and cost nothing more."""
        day = self.dimensions["day"][1]  # the engine's day of c.ts
        stale: list[int] = []
        for column, keys in zip(("visitor_id", "click_token"), stale_keys(touches), strict=True):
            earliest = dict(keys)
            for start in range(0, len(keys), STALE_CHUNK):
                chunk = [k for k, _ in keys[start : start + STALE_CHUNK]]
                params: list[Any]
                if self.dialect.arrays:
                    among, params = f"{column} = ANY(?::text[])", [chunk]
                else:
                    among, params = f"{column} IN ({', '.join('?' * len(chunk))})", chunk
                rows = await tx.fetch(
                    f"SELECT id, {column}, ts FROM conversions WHERE {among}", params
                )
                stale += [r[0] for r in rows if r[2] >= earliest[r[1]]]
        if not stale:
            return
        stale = sorted(set(stale))
        for start in range(0, len(stale), STALE_CHUNK):
            part = stale[start : start + STALE_CHUNK]
            among, ids = self.dialect.among("c.id", part)
            # Their days' credit rollup is summed again before it is read (ADR 0028).
            await tx.execute(
                f"INSERT INTO credit_dirty (day) SELECT DISTINCT {day} FROM conversions c "
                f"WHERE {among} ON CONFLICT DO NOTHING",
                ids,
            )
            among, ids = self.dialect.among("conversion_id", part)
            for table in ("credited", "attribution_credits"):
                await tx.execute(f"DELETE FROM {table} WHERE {among}", ids)

    async def count_events(self, site_id: int | None = None) -> int:
        if site_id is None:
            return int(await self.db.fetchval("SELECT count(*) FROM events"))
        return int(
            await self.db.fetchval("SELECT count(*) FROM events WHERE site_id = ?", (site_id,))
        )

    async def list_events(self, site_id: int, limit: int = 100) -> list[Event]:
        rows = await self.db.fetch(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE site_id = ? "
            "ORDER BY ts DESC, id DESC LIMIT ?",
            (site_id, limit),
        )
        return [event_from_row(r) for r in rows]

    async def touches_for(
        self, visitor_id: str | None, click_token: str | None, since: float, until: float
    ) -> list[Touch]:
        keys: list[str] = []
        params: list[Any] = []
        if visitor_id is not None:
            keys.append("visitor_id = ?")
            params.append(visitor_id)
        if click_token is not None:
            keys.append("click_token = ?")
            params.append(click_token)
        if not keys:
            return []
        rows = await self.db.fetch(
            f"SELECT id, {', '.join(TOUCH_COLUMNS)} FROM touches "
            f"WHERE ({' OR '.join(keys)}) AND ts >= ? AND ts <= ? ORDER BY ts, id",
            [*params, float(since), float(until)],
        )
        return [touch_from_row(r) for r in rows]

    # --- conversions ----------------------------------------------------------------------

    async def _insert_conversion(
        self, tx: Conn, conv: Conversion, targets: Sequence[OutboxTarget]
    ) -> tuple[int, bool]:
        """(id, duplicate): a repeated event_id, or order_id for the goal, stores nothing; a new
        conversion gets the outbox rows given for it. On PostgreSQL a concurrent insert of the
        same keys waits for the other transaction, then finds its row."""
        new_id = await tx.fetchval(_INSERT_CONVERSION, conversion_params(conv, int(time.time())))
        if new_id is not None:
            await self._insert_outbox(tx, int(new_id), conv, targets)
            return int(new_id), False
        found = await tx.fetchval(
            _STORED_CONVERSION, (conv.event_id, conv.goal_id, conv.order_id, conv.event_id)
        )
        return int(found), True

    async def insert_conversions(
        self, conversions: Sequence[Conversion], outbox: Sequence[Sequence[OutboxTarget]] = ()
    ) -> list[tuple[Conversion, bool]]:
        results: list[tuple[int, bool]] = []
        async with self.db.transaction() as tx:
            for conv, targets in paired(conversions, outbox):
                # The outbox rows of a new conversion go in with it, in this transaction.
                results.append(await self._insert_conversion(tx, conv, targets))
        out: list[tuple[Conversion, bool]] = []
        for conv_id, duplicate in results:
            saved = await self.get_conversion(conv_id)
            assert saved is not None
            out.append((saved, duplicate))
        return out

    async def get_conversion(self, conversion_id: int) -> Conversion | None:
        row = await self.db.fetchrow(f"{CONVERSION_SELECT} WHERE c.id = ?", (conversion_id,))
        return conversion_from_row(row) if row else None

    async def conversion_by_order(self, order_id: str, until: float) -> Conversion | None:
        """The newest conversion of an order at or before `until`, a CRM's own aside."""
        row = await self.db.fetchrow(
            f"{CONVERSION_SELECT} WHERE c.order_id = ? AND c.ts <= ? AND c.action_source IS NULL "
            "ORDER BY c.ts DESC, c.id DESC LIMIT 1",
            (order_id, float(until)),
        )
        return conversion_from_row(row) if row else None

    async def conversion_by_user_hash(
        self, key: str, hashed: str, until: float
    ) -> Conversion | None:
        """The newest conversion at or before `until` holding this hashed e-mail (`em`) or
        phone (`ph`): such hashes exist only where ads consent was given. An expression index
        per key (migration 0024) finds it without reading every conversion."""
        assert key in ("em", "ph"), key
        row = await self.db.fetchrow(
            f"{CONVERSION_SELECT} WHERE {self.dialect.json_field('c.user_data', key)} = ? "
            "AND c.user_data != '{}' AND c.ts <= ? AND c.action_source IS NULL "
            "ORDER BY c.ts DESC, c.id DESC LIMIT 1",
            (hashed, float(until)),
        )
        return conversion_from_row(row) if row else None

    async def touches_by_click_id(
        self, kind: str, value: str, since: float, until: float
    ) -> list[Touch]:
        """Touches carrying a platform click id (kept only under ads consent), oldest first,
        through an expression index per kind (migration 0024)."""
        assert kind in ("gclid", "fbclid"), kind
        rows = await self.db.fetch(
            f"SELECT id, {', '.join(TOUCH_COLUMNS)} FROM touches "
            f"WHERE {self.dialect.json_field('click_ids', kind)} = ? AND click_ids != '{{}}' "
            "AND ts >= ? AND ts <= ? ORDER BY ts, id LIMIT 100",
            (value, float(since), float(until)),
        )
        return [touch_from_row(r) for r in rows]

    async def list_conversions(
        self, goal_id: int | None, limit: int, offset: int
    ) -> tuple[list[Conversion], int]:
        where, params = ("WHERE c.goal_id = ?", [goal_id]) if goal_id is not None else ("", [])
        total = await self.db.fetchval(f"SELECT count(*) FROM conversions c {where}", params)
        rows = await self.db.fetch(
            f"{CONVERSION_SELECT} {where} ORDER BY c.ts DESC, c.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [conversion_from_row(r) for r in rows], int(total)
