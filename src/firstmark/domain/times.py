"""Times in and out of JSON: ISO 8601, always UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from firstmark.errors import InvalidField


def now() -> datetime:
    """The current time to the second, in UTC: what a new or changed row is stamped with."""
    return datetime.now(UTC).replace(microsecond=0)


def parse_time(name: str, value: object) -> datetime | None:
    """ISO 8601 date or date-time; naive values are taken as UTC."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(
            name, f"{name} must be an ISO 8601 date-time string", code="invalid_type"
        )
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidField(
            name, f"{name} must be an ISO 8601 date-time like 2026-12-31T23:59:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")
