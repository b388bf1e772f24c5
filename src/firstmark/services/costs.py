"""Importing ad costs: what the API, the dashboard upload and `firstmark costs import` all do."""

from __future__ import annotations

from typing import Any

from firstmark.domain import costs
from firstmark.store import Store


async def import_file(
    store: Store,
    data: bytes,
    preset: str = "auto",
    *,
    source: str | None = None,
    medium: str | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """Read an export, all or nothing (`InvalidFile` lists every bad row), and replace the
    stored costs of the periods it covers; the summary the three callers show."""
    parsed = costs.parse_costs(data, preset, source=source, medium=medium, currency=currency)
    replaced, _ = await store.replace_costs(parsed.rows)
    return costs.to_json(parsed, replaced)
