"""Importing ad costs: what the API, the dashboard upload and `firstmark costs import` all do."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from firstmark.domain import costs
from firstmark.services import audit
from firstmark.services.workers import Workers, run
from firstmark.store import Store


async def import_file(
    store: Store,
    data: bytes,
    preset: str = "auto",
    *,
    source: str | None = None,
    medium: str | None = None,
    currency: str | None = None,
    workers: Workers | None = None,
    actor: str = "cli",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Read an export, all or nothing (`InvalidFile` lists every bad row), and replace the
    stored costs of the periods it covers; the summary the three callers show. Recorded in
    the audit log as `import` of `cost` by `actor`. `progress(step, 3)` follows reading,
    storing and recording (nothing is drawn for a file that is refused)."""
    # Seconds of CPU for a large file: parsed in a worker process.
    parse = partial(
        costs.parse_costs, data, preset, source=source, medium=medium, currency=currency
    )
    parsed = await run(workers, parse)
    if progress is not None:
        progress(1, 3)
    replaced, _ = await store.replace_costs(parsed.rows)
    if progress is not None:
        progress(2, 3)
    summary = costs.to_json(parsed, replaced)
    detail = {k: summary[k] for k in ("preset", "imported", "replaced", "spend", "periods")}
    await audit.record(store, actor, "import", "cost", None, detail)
    if progress is not None:
        progress(3, 3)
    return summary
