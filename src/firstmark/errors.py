"""Named errors. app.py maps them to JSON answers; the CLI to a message and an exit code."""

from __future__ import annotations

from dataclasses import dataclass


class FirstmarkError(Exception):
    """Base of every error a user may see. `status` is the HTTP status the API answers with."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def __reduce__(self) -> tuple[object, ...]:
        # Picklable whatever the subclass's __init__ takes: errors come back from the worker
        # processes (services/workers.py) as they were raised.
        return (_rebuild, (type(self), self.args, self.__dict__))

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return {"error": body}


class InvalidField(FirstmarkError):
    """A value in a request is missing, of the wrong type or refused by a rule."""

    status = 422
    code = "invalid_field"

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message, field=field, code=code)


class UnknownParameter(InvalidField):
    """A query parameter the route does not declare: a typo must not be silently ignored."""

    status = 400

    def __init__(self, name: str) -> None:
        super().__init__(name, f"unknown parameter {name!r}", code="unknown_field")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row of an uploaded file (rows count from 1, the header included)."""

    row: int
    column: str
    message: str


class InvalidFile(FirstmarkError):
    """An uploaded file has bad rows; nothing of it was stored. Each row error is listed."""

    status = 422
    code = "invalid_file"
    shown = 100  # row errors listed in an answer at most

    def __init__(self, errors: list[RowError]) -> None:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(
            f"row {first.row}, {first.column}: {first.message}{more}; nothing was imported",
            field="file",
        )
        self.errors = errors

    def to_json(self) -> dict[str, object]:
        body = super().to_json()
        body["error"]["rows"] = [  # type: ignore[index]
            {"row": e.row, "column": e.column, "message": e.message}
            for e in self.errors[: self.shown]
        ]
        return body


class InvalidBody(FirstmarkError):
    """The body is not a JSON object we can read."""

    status = 400
    code = "invalid_body"


class BodyTooLarge(FirstmarkError):
    status = 413
    code = "body_too_large"


class NotFound(FirstmarkError):
    status = 404
    code = "not_found"


class Conflict(FirstmarkError):
    status = 409
    code = "conflict"


class SlugTaken(Conflict):
    """The short code is already used on that domain."""

    code = "code_taken"

    def __init__(self, domain: str, code: str) -> None:
        where = f" on {domain}" if domain else ""
        super().__init__(f"the code {code!r} is already taken{where}", field="code")


class Unauthorized(FirstmarkError):
    status = 401
    code = "unauthorized"


class Forbidden(FirstmarkError):
    status = 403
    code = "forbidden"


class StoreUnavailable(FirstmarkError):
    """The database cannot be opened, read or locked for writing."""

    status = 503
    code = "store_unavailable"


class ConfigError(FirstmarkError):
    """A FIRSTMARK_* setting has a value we cannot use."""

    code = "invalid_setting"


class RateLimited(FirstmarkError):
    status = 429
    code = "rate_limited"


def _rebuild(
    cls: type[FirstmarkError], args: tuple[object, ...], state: dict[str, object]
) -> FirstmarkError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class Busy(FirstmarkError):
    """Too much CPU work is queued already (services/workers.py); try again shortly."""

    status = 503
    code = "busy"
