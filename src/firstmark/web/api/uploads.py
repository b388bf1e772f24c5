"""An uploaded CSV export in the API (deals, costs): a multipart form or a raw CSV body."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from firstmark.errors import BodyTooLarge, InvalidField
from firstmark.web.http import bounded, read_body

# The request bodies an import route documents in the contract.
CSV_UPLOAD: dict[str, dict[str, Any]] = {
    "multipart/form-data": {
        "type": "object",
        "properties": {"file": {"type": "string", "contentMediaType": "text/csv"}},
        "required": ["file"],
    },
    "text/csv": {"type": "string"},
}


async def read_csv(request: Request, options: dict[str, str], limit: int) -> bytes:
    """The export from a multipart form (field `file`; its other fields are added to
    `options`) or a raw CSV body; refused when larger than `limit` or empty."""

    def too_large() -> BodyTooLarge:
        return BodyTooLarge(f"the file is larger than {limit // 2**20} MB")

    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form_request = bounded(request, limit + 64 * 1024, too_large)
        async with form_request.form(max_files=1, max_fields=10) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InvalidField(
                    "file", "send the export as the form field 'file'", code="required"
                )
            data = await upload.read(limit + 1)
            options.update({k: v for k, v in form.items() if isinstance(v, str)})
    else:
        data = await read_body(request, limit, too_large)
    if len(data) > limit:
        raise too_large()
    if not data.strip():
        raise InvalidField("file", "the file is empty", code="required")
    return data
