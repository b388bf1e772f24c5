"""Dashboard sessions: a signed cookie, CSRF tokens bound to it, and a login throttle.

The session lives entirely in the cookie (signed with the server secret, timestamped, so it
expires without server state). It carries a random nonce; every form posts a CSRF token that is
the nonce signed under another salt, so a token is worth nothing with another session's cookie.
A visitor who has not logged in gets a session without a user, so the login form has a token too.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.responses import Response

COOKIE = "fm_session"
FLASH_COOKIE = "fm_flash"
PATH = "/dashboard"
FLASH_SECONDS = 120


@dataclass(frozen=True, slots=True)
class Session:
    nonce: str
    user_id: int | None = None
    username: str | None = None

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
    def new(user_id: int | None = None, username: str | None = None) -> Session:
        """A fresh session; logging in always makes a new one (a new nonce), so a session
        planted before login is never promoted."""
        return Session(secrets.token_urlsafe(18), user_id, username)

    def read(self, raw: str | None) -> Session | None:
        """The session in a cookie value, or None when missing, forged or expired."""
        if not raw:
            return None
        try:
            data = self._cookie.loads(raw, max_age=self.max_age_s)
        except BadData:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            return None
        user_id, username = data.get("u"), data.get("name")
        if not isinstance(user_id, int) or not isinstance(username, str):
            user_id, username = None, None
        return Session(data["n"], user_id, username)

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
        if session.logged_in:
            data["u"], data["name"] = session.user_id, session.username
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


class LoginThrottle:
    """At most `limit` failed logins per client address in `window_s` seconds, in memory.

    Addresses are kept only as a keyed hash with a key made at start and never written down,
    so not even this process's memory holds a client address for longer than a request.
    Memory is bounded: past `capacity` addresses the oldest are forgotten.
    """

    def __init__(
        self,
        *,
        limit: int = 5,
        window_s: float = 900.0,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.capacity = capacity
        self.clock = clock
        self._key = os.urandom(32)
        self._failures: dict[bytes, deque[float]] = {}

    def _id(self, address: str) -> bytes:
        return hmac.new(self._key, address.encode(), hashlib.sha256).digest()[:16]

    def _recent(self, key: bytes) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        cutoff = self.clock() - self.window_s
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures

    def retry_after(self, address: str) -> int:
        """Seconds until this address may try again; 0 when it may now."""
        failures = self._recent(self._id(address))
        if failures is None or len(failures) < self.limit:
            return 0
        return max(1, int(failures[0] + self.window_s - self.clock()) + 1)

    def failed(self, address: str) -> None:
        key = self._id(address)
        failures = self._recent(key)
        if failures is None:
            while len(self._failures) >= self.capacity:
                del self._failures[next(iter(self._failures))]
            failures = self._failures[key] = deque(maxlen=self.limit)
        failures.append(self.clock())

    def succeeded(self, address: str) -> None:
        self._failures.pop(self._id(address), None)
