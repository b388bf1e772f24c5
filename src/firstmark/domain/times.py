"""Times in and out of JSON: ISO 8601, always UTC, inside a sane window.

Every time a request brings is checked before it is stored or used in arithmetic: observed
times (a conversion's or a call's `ts`) lie between 2000-01-01 and now + 5 minutes; planned
times (valid_from, expires_at, event schedules, report ranges) between 2000-01-01 and
2100-01-01. Readers format whatever is stored without failing (`iso_ts`), so one odd row
never breaks a page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from firstmark.errors import InvalidField

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
FUTURE_SKEW = timedelta(minutes=5)
EARLIEST_TS = EARLIEST.timestamp()
LATEST_TS = LATEST.timestamp()


def now() -> datetime:
    """The current time to the second, in UTC: what a new or changed row is stamped with."""
    return datetime.now(UTC).replace(microsecond=0)


def parse_time(name: str, value: object, *, latest: datetime = LATEST) -> datetime | None:
    """ISO 8601 date or date-time; naive values are taken as UTC. Refused outside
    [2000-01-01, `latest`)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(
            name, f"{name} must be an ISO 8601 date-time string", code="invalid_type"
        )
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # year 1 at +14:00 overflows on the way to UTC
        raise InvalidField(
            name, f"{name} must be an ISO 8601 date-time like 2026-12-31T23:59:00Z"
        ) from None
    return in_window(name, parsed, latest)


def in_window(name: str, value: datetime, latest: datetime = LATEST) -> datetime:
    if not EARLIEST <= value < latest:
        raise InvalidField(name, f"{name} must be from {EARLIEST.date()} to before {iso(latest)}")
    return value


def observed_latest(current: datetime | None = None) -> datetime:
    """The latest time an event can have happened: now plus a little clock skew."""
    return (current or datetime.now(UTC)) + FUTURE_SKEW


def check_day(name: str, value: date) -> date:
    """A calendar date (cost rows, placement dates) in the same window."""
    if not EARLIEST.date() <= value < LATEST.date():
        raise InvalidField(name, f"{name} must be from {EARLIEST.date()} to before {LATEST.date()}")
    return value


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_ts(ts: float | None) -> str | None:
    """Epoch seconds as ISO 8601 for an answer; a stored value beyond what datetime holds
    (a row written before times were checked) reads as None rather than failing the page."""
    if ts is None:
        return None
    try:
        return iso(datetime.fromtimestamp(ts, UTC))
    except (ValueError, OverflowError, OSError):
        return None
