"""Dashboard sessions: a signed cookie naming a session kept on the server, CSRF tokens bound to
it, and flash messages.

The cookie (signed with the server secret, timestamped) carries a random nonce and, once logged
in, a random session id. The server keeps only the SHA-256 of that id, with its user and
expiry (the `sessions` table); every dashboard request looks it up, so deleting the row ends
the session at once: logout, a password change, "sign out everywhere". The signed cookie alone
opens nothing. Every form posts a CSRF token that is the nonce signed under another salt, so a
token is worth nothing with another session's cookie. A visitor who has not logged in gets a
session without a user (no row), so the login form has a token too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.responses import Response

from firstmark.store import SessionStore, User

COOKIE = "fm_session"
FLASH_COOKIE = "fm_flash"
PATH = "/dashboard"
FLASH_SECONDS = 120


def session_key(sid: str) -> str:
    """What the server stores for a session id: its SHA-256, hex."""
    return hashlib.sha256(sid.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    nonce: str
    sid: str | None = None  # the server-side session's id (logged in), secret to the cookie
    user_id: int | None = None  # from the server-side session, never from the cookie
    username: str | None = None
    role: str = ""  # the user's role, from the server-side session ("" before login)

    @property
    def logged_in(self) -> bool:
        return self.user_id is not None


class Sessions:
    """Reads and writes the session and flash cookies, and makes and checks CSRF tokens."""

    def __init__(self, secret: str, *, max_age_s: int, secure: bool) -> None:
        self.max_age_s = max_age_s
        self.secure = secure
        self._cookie = URLSafeTimedSerializer(secret, salt="firstmark.dashboard.session")
        self._csrf = URLSafeTimedSerializer(secret, salt="firstmark.dashboard.csrf")
        self._flash = URLSafeTimedSerializer(secret, salt="firstmark.dashboard.flash")

    @staticmethod
    def new() -> Session:
        """A fresh session without a user (the login form's)."""
        return Session(secrets.token_urlsafe(18))

    async def start(self, store: SessionStore, user: User, now: float | None = None) -> Session:
        """Log `user` in: a new server-side session and a new nonce, so a session planted
        before login is never promoted."""
        now = time.time() if now is None else now
        sid = secrets.token_urlsafe(32)
        await store.insert_session(session_key(sid), user.id, now, now + self.max_age_s)
        return Session(secrets.token_urlsafe(18), sid, user.id, user.username, user.role)

    def read(self, raw: str | None) -> Session | None:
        """The session in a cookie value (its user not yet known), or None when missing,
        forged or expired."""
        if not raw:
            return None
        try:
            data = self._cookie.loads(raw, max_age=self.max_age_s)
        except BadData:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            return None
        sid = data.get("s")
        return Session(data["n"], sid if isinstance(sid, str) and sid else None)

    async def resolve(self, store: SessionStore, raw: str | None) -> Session | None:
        """The session in a cookie value with its user from the server; None when the cookie
        is missing, forged or expired, or names a session the server no longer has."""
        session = self.read(raw)
        if session is None or session.sid is None:
            return session
        user = await store.session_user(session_key(session.sid), time.time())
        if user is None:
            return None
        return replace(session, user_id=user.id, username=user.username, role=user.role)

    async def end(self, store: SessionStore, session: Session) -> None:
        """End the server-side session (logout)."""
        if session.sid is not None:
            await store.delete_session(session_key(session.sid))

    def _set(self, response: Response, name: str, value: str, max_age: int) -> None:
        # No Domain attribute: the cookie belongs to the host that served the page, no other.
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=PATH,
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def save(self, response: Response, session: Session) -> None:
        data: dict[str, Any] = {"n": session.nonce}
        if session.sid is not None:
            data["s"] = session.sid
        self._set(response, COOKIE, self._cookie.dumps(data), self.max_age_s)

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path=PATH, secure=self.secure, httponly=True, samesite="lax")

    def csrf_token(self, session: Session) -> str:
        return self._csrf.dumps(session.nonce)

    def csrf_ok(self, session: Session | None, token: object) -> bool:
        if session is None or not isinstance(token, str) or not token:
            return False
        try:
            nonce = self._csrf.loads(token, max_age=self.max_age_s)
        except BadData:
            return False
        return isinstance(nonce, str) and hmac.compare_digest(nonce, session.nonce)

    # A one-shot message for the page after a redirect (post/redirect/get).

    def set_flash(self, response: Response, flash: dict[str, Any]) -> None:
        self._set(response, FLASH_COOKIE, self._flash.dumps(flash), FLASH_SECONDS)

    def read_flash(self, raw: str | None) -> dict[str, Any] | None:
        if not raw:
            return None
        try:
            data = self._flash.loads(raw, max_age=FLASH_SECONDS)
        except BadData:
            return None
        return data if isinstance(data, dict) else None

    def clear_flash(self, response: Response) -> None:
        response.delete_cookie(
            FLASH_COOKIE, path=PATH, secure=self.secure, httponly=True, samesite="lax"
        )
