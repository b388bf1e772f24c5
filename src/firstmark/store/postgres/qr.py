"""PostgreSQL: telling every node when a link's placements may lead elsewhere (the QR queries
themselves are sql/qr.py)."""

from __future__ import annotations

from firstmark.store.postgres.listen import CHANNEL
from firstmark.store.sql.executor import Conn
from firstmark.store.sql.qr import QrSQL


class PostgresQr(QrSQL):
    async def _family_changed(self, tx: Conn, link_id: int) -> None:
        """NOTIFY the codes of a link and of its placements."""
        await tx.execute(
            "SELECT pg_notify(?, 'link:' || code) FROM links WHERE id = ? "
            "OR id IN (SELECT link_id FROM qr_placements WHERE parent_id = ?)",
            (CHANNEL, link_id, link_id),
        )
