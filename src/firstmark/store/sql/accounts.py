"""API keys, dashboard users and domains, the same on both engines."""

from __future__ import annotations

import time
from datetime import datetime

from firstmark.domain.keys import ApiKey
from firstmark.errors import Conflict
from firstmark.store.protocol import Domain, User
from firstmark.store.rows.accounts import KEY_COLUMNS, key_from_row
from firstmark.store.rows.values import epoch
from firstmark.store.sql.executor import SharedSQL, Violation


class AccountSQL(SharedSQL):
    # How list_domains orders them; the engines have always listed them differently.
    domain_order: str

    # --- API keys -------------------------------------------------------------------------

    async def insert_api_key(self, key: ApiKey) -> ApiKey:
        rows = await self.db.write(
            "INSERT INTO api_keys (prefix, hash, scopes, name, created_at) "
            f"VALUES (?, ?, ?, ?, ?) RETURNING {KEY_COLUMNS}",
            (key.prefix, key.hash, " ".join(key.scopes), key.name, int(time.time())),
        )
        return key_from_row(rows[0])

    async def api_key_by_prefix(self, prefix: str) -> ApiKey | None:
        row = await self.db.fetchrow(
            f"SELECT {KEY_COLUMNS} FROM api_keys WHERE prefix = ?", (prefix,)
        )
        return key_from_row(row) if row else None

    async def list_api_keys(self) -> list[ApiKey]:
        rows = await self.db.fetch(f"SELECT {KEY_COLUMNS} FROM api_keys ORDER BY id")
        return [key_from_row(r) for r in rows]

    async def touch_api_key(self, key_id: int, when: datetime) -> None:
        await self.db.execute(
            "UPDATE api_keys SET last_used_at = ? WHERE id = ?", (epoch(when), key_id)
        )

    async def revoke_api_key(self, prefix: str) -> bool:
        return (
            await self.db.execute("UPDATE api_keys SET revoked = TRUE WHERE prefix = ?", (prefix,))
            > 0
        )

    # --- users ----------------------------------------------------------------------------

    async def insert_user(self, username: str, password_hash: str, is_admin: bool) -> int:
        try:
            rows = await self.db.write(
                "INSERT INTO users (username, password_hash, is_admin, created_at) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (username, password_hash, is_admin, int(time.time())),
            )
        except Violation:
            raise Conflict(f"the user {username!r} exists already", field="username") from None
        return int(rows[0][0])

    async def count_users(self) -> int:
        return int(await self.db.fetchval("SELECT count(*) FROM users"))

    async def user_by_name(self, username: str) -> User | None:
        row = await self.db.fetchrow(
            "SELECT id, username, password_hash, is_admin FROM users WHERE username = ?",
            (username,),
        )
        return User(row[0], row[1], row[2], bool(row[3])) if row else None

    # --- domains --------------------------------------------------------------------------

    async def upsert_domain(self, domain: Domain) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO domains (host, fallback_url, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (host) DO UPDATE SET fallback_url = excluded.fallback_url",
                (domain.host, domain.fallback_url, int(time.time())),
            )
            await self._changed(tx, "domain", domain.host)

    async def get_domain(self, host: str) -> Domain | None:
        row = await self.db.fetchrow(
            "SELECT host, fallback_url FROM domains WHERE host = ?", (host,)
        )
        return Domain(row[0], row[1]) if row else None

    async def list_domains(self) -> list[Domain]:
        rows = await self.db.fetch(
            f"SELECT host, fallback_url FROM domains ORDER BY {self.domain_order}"
        )
        return [Domain(r[0], r[1]) for r in rows]
