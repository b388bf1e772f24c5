"""Dashboard link import: upload another shortener's export, see what came in, what was
already taken and which rows were refused."""

from __future__ import annotations

from functools import partial

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import imports
from firstmark.domain.roles import EDITOR
from firstmark.errors import InvalidField, InvalidFile, RowError
from firstmark.services import audit
from firstmark.services import imports as imports_service
from firstmark.services import links as links_service
from firstmark.services.workers import run
from firstmark.web.dashboard.views import Ctx, actor, page

MAX_FILE_BYTES = 16 * 2**20
TOOL_LABELS = {
    "bitly": "Bitly (links CSV)",
    "yourls": "YOURLS (SQL dump or CSV of the url table)",
    "shlink": "Shlink (CSV export or API JSON)",
    "kutt": "Kutt (API JSON)",
    "dub": "Dub (links CSV export)",
}
assert tuple(TOOL_LABELS) == imports.TOOLS
SHOWN_ROWS = 100  # conflicts and errors listed on the result page at most


def _render(
    ctx: Ctx,
    status: int = 200,
    *,
    tool: str = "",
    errors: dict[str, str] | None = None,
    row_errors: list[RowError] | None = None,
    result: dict[str, object] | None = None,
) -> Response:
    row_errors = row_errors or []
    return ctx.render(
        "link_import.html",
        status,
        tools=TOOL_LABELS,
        tool=tool,
        errors=errors or {},
        row_errors=row_errors[:SHOWN_ROWS],
        more_errors=max(0, len(row_errors) - SHOWN_ROWS),
        result=result,
        max_mb=MAX_FILE_BYTES // 2**20,
    )


async def import_page(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        return _render(ctx)
    tool = ctx.value("tool")
    try:
        if tool not in imports.TOOLS:
            raise InvalidField("tool", "choose the tool the export comes from")
        upload = await ctx.file("file", MAX_FILE_BYTES)
        if upload is None:
            raise InvalidField("file", "choose the export file to upload")
        _, data = upload
        if len(data) > MAX_FILE_BYTES:
            raise InvalidField("file", f"the file is larger than {MAX_FILE_BYTES // 2**20} MB")
        # Parsing a large export is seconds of CPU: done in a worker process.
        rows = await run(ctx.runtime.workers, partial(imports.parse, tool, data))
    except InvalidFile as exc:
        first = exc.errors[0]
        message = f"row {first.row}, {first.column}: {first.message}; nothing was imported."
        return _render(ctx, 422, tool=tool, errors={"file": message}, row_errors=exc.errors)
    except InvalidField as exc:
        field = exc.field if exc.field == "tool" else "file"
        return _render(ctx, 422, tool=tool, errors={field: exc.message})
    outcome = await imports_service.import_links(
        ctx.store, links_service.policy(ctx.settings), rows
    )
    summary = outcome.to_json()
    await audit.record(
        ctx.store,
        actor(ctx),
        "import",
        "link",
        None,
        {"tool": tool, "imported": summary["imported"], "clicks": summary["clicks"]},
    )
    for key in ("conflicts", "errors"):
        found = summary[key]
        assert isinstance(found, list)
        summary[f"more_{key}"] = max(0, len(found) - SHOWN_ROWS)
        summary[key] = found[:SHOWN_ROWS]
    summary["tool"] = TOOL_LABELS[tool]
    return _render(ctx, tool=tool, result=summary)


routes = [
    Route(
        "/dashboard/links/import",
        page(import_page, role=EDITOR, upload=MAX_FILE_BYTES),
        methods=["GET", "POST"],
    ),
]
