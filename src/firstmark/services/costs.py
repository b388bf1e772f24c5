"""Importing ad costs: what the API, the dashboard upload and `firstmark costs import` all do."""

from __future__ import annotations

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
) -> dict[str, Any]:
    """Read an export, all or nothing (`InvalidFile` lists every bad row), and replace the
    stored costs of the periods it covers; the summary the three callers show. Recorded in
    the audit log as `import` of `cost` by `actor`."""
    # Seconds of CPU for a large file: parsed in a worker process.
    parse = partial(
        costs.parse_costs, data, preset, source=source, medium=medium, currency=currency
    )
    parsed = await run(workers, parse)
    replaced, _ = await store.replace_costs(parsed.rows)
    summary = costs.to_json(parsed, replaced)
    detail = {k: summary[k] for k in ("preset", "imported", "replaced", "spend", "periods")}
    await audit.record(store, actor, "import", "cost", None, detail)
    return summary
