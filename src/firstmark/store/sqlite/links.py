"""SQLite: a link's tags, one row each (the rest of links is sql/links.py)."""

from __future__ import annotations

from collections.abc import Sequence

from firstmark.store.sql.executor import Conn
from firstmark.store.sql.links import LinkSQL


class SQLiteLinks(LinkSQL):
    async def _write_tags(self, tx: Conn, link_id: int, tags: Sequence[str]) -> None:
        await tx.execute("DELETE FROM link_tags WHERE link_id = ?", (link_id,))
        await tx.executemany(
            "INSERT INTO link_tags (tag, link_id) VALUES (?, ?)", [(t, link_id) for t in tags]
        )
