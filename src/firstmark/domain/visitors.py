"""The daily visitor hash: counts unique visitors without storing who they are.

hash = BLAKE2b(salt of the day, host, client address, user agent). The salt is random, one per
UTC day, kept for 48 hours and then deleted (with the day's visitor rows), so yesterday's hashes
can no longer be recomputed or linked to today's.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from functools import lru_cache

DAY = 86_400
SALT_KEEP_DAYS = 2


def day_of(ts: float) -> int:
    """Days since the Unix epoch (UTC): the key of a salt."""
    return int(ts // DAY)


def new_salt() -> bytes:
    return os.urandom(32)


def first_kept_day(today: int) -> int:
    """The oldest day whose salt is still kept on `today`: yesterday's stays for late hits."""
    return today - SALT_KEEP_DAYS + 1


def forget_before(last_day: int, day: int) -> int | None:
    """When a salt is asked for `day` after salts were last asked for up to `last_day`: on a
    new (later) day, the first day whose salt is kept, every older one to be forgotten for
    good; None when it is no new day and nothing is forgotten."""
    return first_kept_day(day) if day > last_day else None


def forgotten(days: Iterable[int], today: int) -> list[int]:
    """The days among `days` whose salts are no longer kept on `today`."""
    first = first_kept_day(today)
    return [d for d in days if d < first]


@lru_cache(maxsize=8)
def _keyed(salt: bytes) -> hashlib.blake2b:
    """The day's keyed hash state, copied for each visitor: keying costs a block of its own."""
    return hashlib.blake2b(digest_size=12, key=salt)


def visitor_day_hash(salt: bytes, host: str, ip: str, user_agent: str) -> str:
    digest = _keyed(salt).copy()
    digest.update(f"{host}\0{ip}\0".encode() + user_agent.encode("utf-8", "replace"))
    return digest.hexdigest()
