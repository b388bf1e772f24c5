"""Password hashing for protected links and dashboard users: scrypt, never plaintext."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from firstmark.errors import InvalidField

# RFC 7914 recommends N=2^14, r=8, p=1 for interactive logins (about 16 MB, a few ms here).
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    encoded = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"scrypt${_N}${_R}${_P}${encoded[0]}${encoded[1]}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        digest = hashlib.scrypt(
            password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


# A new password: long enough to resist guessing, short enough that hashing it is cheap.
MIN_LENGTH = 10
MAX_LENGTH = 1024


def check_new(password: str, field: str = "password") -> str:
    """A new dashboard password as given, or InvalidField naming `field`."""
    if len(password) < MIN_LENGTH:
        raise InvalidField(field, f"the password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidField(field, f"the password must be at most {MAX_LENGTH} characters")
    if password != password.strip() or any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise InvalidField(
            field, "the password must not start or end with spaces or hold control characters"
        )
    return password
