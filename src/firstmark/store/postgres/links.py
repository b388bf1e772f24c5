"""PostgreSQL: a link's tags in one statement (the rest of links is sql/links.py)."""

from __future__ import annotations

from collections.abc import Sequence

from firstmark.store.sql.executor import Conn
from firstmark.store.sql.links import LinkSQL


class PostgresLinks(LinkSQL):
    async def _write_tags(self, tx: Conn, link_id: int, tags: Sequence[str]) -> None:
        await tx.execute("DELETE FROM link_tags WHERE link_id = ?", (link_id,))
        if tags:
            await tx.execute(
                "INSERT INTO link_tags (tag, link_id) SELECT t, ? FROM unnest(?::text[]) t",
                (link_id, list(tags)),
            )
