"""The daily visitor hash: counts unique visitors without storing who they are.

hash = BLAKE2b(salt of the day, host, client address, user agent). The salt is random, kept for
48 hours and then deleted, so yesterday's hashes can no longer be recomputed or linked to today's.
"""

from __future__ import annotations

import hashlib
import os

DAY = 86_400
SALT_KEEP_DAYS = 2


def day_of(ts: float) -> int:
    """Days since the Unix epoch (UTC): the key of a salt."""
    return int(ts // DAY)


def new_salt() -> bytes:
    return os.urandom(32)


def visitor_day_hash(salt: bytes, host: str, ip: str, user_agent: str) -> str:
    digest = hashlib.blake2b(digest_size=12, key=salt)
    digest.update(host.encode())
    digest.update(b"\0")
    digest.update(ip.encode())
    digest.update(b"\0")
    digest.update(user_agent.encode("utf-8", "replace"))
    return digest.hexdigest()
