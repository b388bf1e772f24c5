"""API keys, dashboard users, invitations and domains, the same on both engines."""

from __future__ import annotations

import time
from datetime import datetime

from firstmark.domain.keys import ApiKey
from firstmark.domain.roles import ADMIN, at_least
from firstmark.errors import Conflict
from firstmark.store.protocol import Domain, Invitation, User
from firstmark.store.rows.accounts import (
    INVITATION_COLUMNS,
    KEY_COLUMNS,
    KEY_SELECT,
    USER_COLUMNS,
    invitation_from_row,
    key_from_row,
    user_from_row,
)
from firstmark.store.rows.values import epoch
from firstmark.store.sql.executor import SharedSQL, Violation


class AccountSQL(SharedSQL):
    # How list_domains orders them; the engines have always listed them differently.
    domain_order: str

    # --- API keys -------------------------------------------------------------------------

    async def insert_api_key(self, key: ApiKey) -> ApiKey:
        rows = await self.db.write(
            "INSERT INTO api_keys (prefix, hash, scopes, name, created_at, user_id) "
            f"VALUES (?, ?, ?, ?, ?, ?) RETURNING {KEY_COLUMNS}",
            (key.prefix, key.hash, " ".join(key.scopes), key.name, int(time.time()), key.user_id),
        )
        return key_from_row(rows[0])

    async def api_key_by_prefix(self, prefix: str) -> ApiKey | None:
        row = await self.db.fetchrow(f"{KEY_SELECT} WHERE k.prefix = ?", (prefix,))
        return key_from_row(row) if row else None

    async def list_api_keys(self, user_id: int | None = None) -> list[ApiKey]:
        if user_id is None:
            rows = await self.db.fetch(f"{KEY_SELECT} ORDER BY k.id")
        else:
            rows = await self.db.fetch(
                f"{KEY_SELECT} WHERE k.user_id = ? ORDER BY k.id", (user_id,)
            )
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

    async def insert_user(self, username: str, password_hash: str, role: str) -> int:
        try:
            rows = await self.db.write(
                "INSERT INTO users (username, password_hash, is_admin, role, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (username, password_hash, at_least(role, ADMIN), role, int(time.time())),
            )
        except Violation:
            raise Conflict(f"the user {username!r} exists already", field="username") from None
        return int(rows[0][0])

    async def count_users(self) -> int:
        return int(await self.db.fetchval("SELECT count(*) FROM users"))

    async def user_by_name(self, username: str) -> User | None:
        row = await self.db.fetchrow(
            f"SELECT {USER_COLUMNS} FROM users WHERE username = ?", (username,)
        )
        return user_from_row(row) if row else None

    async def list_users(self) -> list[User]:
        rows = await self.db.fetch(f"SELECT {USER_COLUMNS} FROM users ORDER BY username")
        return [user_from_row(r) for r in rows]

    async def set_user_password(self, user_id: int, password_hash: str) -> bool:
        """A new password hash; every session of the user ends with the old password."""
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
            )
            await tx.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
        return changed > 0

    async def set_user_role(self, user_id: int, role: str) -> bool:
        return (
            await self.db.execute(
                "UPDATE users SET role = ?, is_admin = ? WHERE id = ?",
                (role, at_least(role, ADMIN), user_id),
            )
            > 0
        )

    async def set_user_disabled(self, user_id: int, disabled: bool, now: float) -> bool:
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE users SET disabled_at = ? WHERE id = ?",
                (int(now) if disabled else None, user_id),
            )
            if disabled:
                await tx.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
        return changed > 0

    async def delete_user(self, user_id: int) -> bool:
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
            await tx.execute("UPDATE api_keys SET revoked = TRUE WHERE user_id = ?", (user_id,))
            return await tx.execute("DELETE FROM users WHERE id = ?", (user_id,)) > 0

    # --- invitations ----------------------------------------------------------------------

    async def insert_invitation(
        self, token_hash: str, role: str, created_by: str, now: float, expires_at: float
    ) -> Invitation:
        rows = await self.db.write(
            "INSERT INTO invitations (token_hash, role, created_by, created_at, expires_at) "
            f"VALUES (?, ?, ?, ?, ?) RETURNING {INVITATION_COLUMNS}",
            (token_hash, role, created_by, int(now), int(expires_at)),
        )
        return invitation_from_row(rows[0])

    async def list_invitations(self, now: float) -> list[Invitation]:
        rows = await self.db.fetch(
            f"SELECT {INVITATION_COLUMNS} FROM invitations "
            "WHERE used_at IS NULL AND expires_at > ? ORDER BY id",
            (int(now),),
        )
        return [invitation_from_row(r) for r in rows]

    async def delete_invitation(self, invitation_id: int) -> bool:
        return (
            await self.db.execute(
                "DELETE FROM invitations WHERE id = ? AND used_at IS NULL", (invitation_id,)
            )
            > 0
        )

    async def accept_invitation(
        self, token_hash: str, username: str, password_hash: str, now: float
    ) -> User | None:
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(
                "UPDATE invitations SET used_at = ?, used_by = ? "
                "WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING role",
                (int(now), username, token_hash, int(now)),
            )
            if row is None:
                return None
            role = row[0]
            try:
                created = await tx.fetchrow(
                    "INSERT INTO users (username, password_hash, is_admin, role, created_at) "
                    f"VALUES (?, ?, ?, ?, ?) RETURNING {USER_COLUMNS}",
                    (username, password_hash, at_least(role, ADMIN), role, int(now)),
                )
            except Violation:
                raise Conflict(f"the user {username!r} exists already", field="username") from None
        return user_from_row(created) if created else None

    # --- sessions -------------------------------------------------------------------------

    async def insert_session(self, key: str, user_id: int, now: float, expires_at: float) -> None:
        async with self.db.transaction() as tx:
            # Expired sessions go as new ones come: the table holds live sessions only.
            await tx.execute("DELETE FROM sessions WHERE expires_at <= ?", (int(now),))
            await tx.execute(
                "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (key, user_id, int(now), int(expires_at)),
            )

    async def session_user(self, key: str, now: float) -> User | None:
        row = await self.db.fetchrow(
            "SELECT u.id, u.username, u.password_hash, u.role, u.disabled_at, u.created_at "
            "FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.id = ? AND s.expires_at > ? AND u.disabled_at IS NULL",
            (key, int(now)),
        )
        return user_from_row(row) if row else None

    async def delete_session(self, key: str) -> bool:
        return await self.db.execute("DELETE FROM sessions WHERE id = ?", (key,)) > 0

    async def delete_user_sessions(self, user_id: int) -> int:
        return await self.db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

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
