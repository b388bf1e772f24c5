"""Which write failures belong to the rows rather than to the database.

A batch that fails because of one of its rows (text PostgreSQL cannot hold, a number out of
range, a constraint) would fail on every retry and block the rows behind it; the writers
split such a batch to find that row. A database that is down, locked or unreachable is
retried as a whole instead.
"""

from __future__ import annotations

import sqlite3
import sys

ROW_LEVEL: tuple[type[BaseException], ...] = (
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.ProgrammingError,  # a value SQLite cannot bind
    ValueError,  # includes UnicodeError; raised while building or encoding a row
    TypeError,
    OverflowError,
)


def row_level(exc: BaseException) -> bool:
    """Whether `exc` (or the error it wraps) is about the values written, not the database."""
    seen: BaseException | None = exc
    for _ in range(4):  # the store may wrap the driver's error (raise ... from None keeps it)
        if seen is None:
            return False
        if isinstance(seen, ROW_LEVEL) or _postgres_row_error(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _postgres_row_error(exc: BaseException) -> bool:
    if "asyncpg" not in sys.modules:  # never loaded: not a PostgreSQL error
        return False
    from asyncpg import exceptions

    return isinstance(
        exc,
        exceptions.DataError  # class 22: NUL or bad text, out-of-range numbers
        | exceptions.IntegrityConstraintViolationError  # class 23
        | exceptions.UntranslatableCharacterError,
    )
