"""Usernames and invitations: who may join, under which name.

An invitation is a one-time link carrying a random token; only its SHA-256 is stored, so the
database alone cannot be used to join. It is shown once to whoever made it (no mail server is
needed: they pass it on) and works once, within INVITATION_DAYS.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from firstmark.errors import InvalidField

INVITATION_DAYS = 7
INVITATION_PATH = "/dashboard/join/"
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def check_username(value: object) -> str:
    """A username: 1-64 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or digit
    (so it reads the same in a URL, a log line and the CLI)."""
    if not isinstance(value, str) or not _USERNAME.fullmatch(value):
        raise InvalidField(
            "username",
            "a username is 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit",
        )
    return value


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + INVITATION_PATH + token
