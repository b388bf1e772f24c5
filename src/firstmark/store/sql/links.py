"""Links, the same on both engines: saving a link with its tags, lookups and listings."""

from __future__ import annotations

from typing import Any

from firstmark.domain.links import Link
from firstmark.domain.utm import UTM_FIELDS
from firstmark.errors import Conflict, NotFound, SlugTaken
from firstmark.store.protocol import LinkQuery
from firstmark.store.rows.links import LINK_SELECT, link_from_row, link_params
from firstmark.store.sql.executor import SharedSQL, Violation


def insert_sql(columns: list[str]) -> str:
    """INSERT of a link's columns (link_params order), giving back its id."""
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO links ({', '.join(columns)}) VALUES ({marks}) RETURNING id"


class LinkSQL(SharedSQL):
    async def insert_link(self, link: Link) -> Link:
        params = link_params(link)
        try:
            async with self.db.transaction() as tx:
                link_id = await tx.fetchval(insert_sql(list(params)), list(params.values()))
                await self._write_tags(tx, link_id, link.tags)
                await self._changed(tx, "link", link.code)
        except Violation as exc:
            if exc.unique("links", "code"):  # the user's to fix; any other stays loud
                raise SlugTaken(link.domain, link.code) from None
            raise
        saved = await self.get_link(link_id)
        assert saved is not None
        return saved

    async def update_link(self, link: Link) -> Link:
        """Save a changed link; its version must be one past the stored one (else Conflict)."""
        if link.id is None:
            raise NotFound("link has no id")
        params = link_params(link)
        sets = ", ".join(f"{name} = ?" for name in params)
        try:
            async with self.db.transaction() as tx:
                old_code = await tx.fetchval(
                    f"SELECT code FROM links WHERE id = ?{self.dialect.for_update}", (link.id,)
                )
                if old_code is None:
                    raise NotFound(f"no link with id {link.id}")
                changed = await tx.execute(
                    f"UPDATE links SET {sets} WHERE id = ? AND version = ? - 1",
                    (*params.values(), link.id, link.version),
                )
                if not changed:
                    raise Conflict("the link was changed meanwhile; fetch it and try again")
                await self._write_tags(tx, link.id, link.tags)
                await self._changed(tx, "link", link.code)
                if old_code != link.code:
                    await self._changed(tx, "link", old_code)
        except Violation as exc:
            if exc.unique("links", "code"):
                raise SlugTaken(link.domain, link.code) from None
            raise
        saved = await self.get_link(link.id)
        assert saved is not None
        return saved

    async def get_link(self, link_id: int) -> Link | None:
        row = await self.db.fetchrow(f"{LINK_SELECT} WHERE id = ?", (link_id,))
        return link_from_row(row) if row else None

    async def link_by_code(self, host: str, code: str) -> Link | None:
        """The link for a code on a host: the host's own first, else the default domain's."""
        row = await self.db.fetchrow(
            f"{LINK_SELECT} WHERE code = ? AND domain IN (?, '') ORDER BY domain DESC LIMIT 1",
            (code, host),
        )
        return link_from_row(row) if row else None

    async def list_links(self, query: LinkQuery) -> tuple[list[Link], int]:
        where: list[str] = ["TRUE"]
        params: list[Any] = []
        for name, value in query.filters.items():
            if name == "tag":
                where.append("id IN (SELECT link_id FROM link_tags WHERE tag = ?)")
            else:
                where.append(f"{name} = ?")
            params.append(value)
        if query.archived is not None:
            where.append("archived = ?")
            params.append(query.archived)
        if query.search:
            where.append("(code LIKE ? ESCAPE '\\' OR destination LIKE ? ESCAPE '\\')")
            like = "%" + query.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params += [like + "%", like + "%"]
        clause = " AND ".join(where)
        total = await self.db.fetchval(f"SELECT count(*) FROM links WHERE {clause}", params)
        rows = await self.db.fetch(
            f"{LINK_SELECT} WHERE {clause} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
        return [link_from_row(r) for r in rows], int(total)

    async def count_links(self) -> int:
        return int(await self.db.fetchval("SELECT count(*) FROM links"))

    async def utm_values_in_use(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name in UTM_FIELDS:
            rows = await self.db.fetch(
                f"SELECT DISTINCT {name}{self.dialect.collate} FROM links "
                f"WHERE {name} IS NOT NULL ORDER BY 1 LIMIT 500"
            )
            out[name] = [r[0] for r in rows]
        return out
