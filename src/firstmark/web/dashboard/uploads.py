"""The export upload of the dashboard's import pages (deals, costs): read the chosen file and
show why it was refused, a bad file's rows next to the upload field."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from firstmark.errors import InvalidField, InvalidFile, RowError
from firstmark.web.dashboard.views import Ctx


async def export_file(ctx: Ctx, limit: int, missing: str) -> bytes:
    """The bytes of the form's `file`; an error on that field when none was chosen (`missing`
    says what to choose), it is larger than `limit` or it is empty."""
    upload = await ctx.file("file", limit)
    if upload is None:
        raise InvalidField("file", missing)
    _, data = upload
    if len(data) > limit:
        raise InvalidField("file", f"the file is larger than {limit // 2**20} MB")
    if not data.strip():
        raise InvalidField("file", "the file is empty")
    return data


def row_errors(errors: list[RowError] | None) -> dict[str, Any]:
    """The template values for a refused file's bad rows: the first few, and how many more."""
    errors = errors or []
    return {
        "row_errors": errors[: InvalidFile.shown],
        "more_errors": max(0, len(errors) - InvalidFile.shown),
    }


def refusal(exc: InvalidField | InvalidFile, fields: Collection[str]) -> dict[str, Any]:
    """The page values for a refused import: the message on its form field (the file's when
    the field is not on the form) and a bad file's rows."""
    if isinstance(exc, InvalidFile):
        message = f"{len(exc.errors)} row(s) have errors; nothing was imported."
        return {"errors": {"file": message}, "bad_rows": exc.errors}
    field = exc.field if exc.field in fields else "file"
    return {"errors": {field: exc.message}}
