"""Privacy requests and figures: erase or export what links to a person, consent by state.

Every erasure and export is written to the audit log with the kind of identifier, never its
value. The link maps are domain/privacy.py; the store runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from firstmark.config import Settings
from firstmark.domain import audit, privacy, stats
from firstmark.domain.privacy import StateCount
from firstmark.errors import InvalidField, NotFound
from firstmark.services import retention
from firstmark.store import Store

CONSENT_PARAMS = ("from", "to", "site")


def _request(body: object) -> tuple[str, str]:
    if not isinstance(body, Mapping):
        raise InvalidField("body", "the body must be a JSON object", code="invalid_type")
    unknown = set(body) - {"kind", "value"}
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidField(name, f"unknown field {name!r}", code="unknown_field")
    kind, value = body.get("kind"), body.get("value")
    if not isinstance(kind, str):
        raise InvalidField("kind", f"kind must be one of {', '.join(privacy.KINDS)}")
    return kind, value if isinstance(value, str) else ""


async def erase(store: Store, body: object, caller_key: bytes, actor: str) -> dict[str, Any]:
    """Delete or anonymise every row linked to the identifier in `body` ({kind, value});
    the counts per table."""
    kind, value = _request(body)
    subject = privacy.subject(kind, value, caller_key)
    _, counts = await store.privacy_erase(subject)
    await store.insert_audit(audit.Entry(actor, "erase", "privacy", kind, {"tables": counts}))
    return {"kind": kind, "tables": counts}


async def export(store: Store, body: object, caller_key: bytes, actor: str) -> dict[str, Any]:
    """Every row linked to the identifier in `body`, table by table."""
    kind, value = _request(body)
    subject = privacy.subject(kind, value, caller_key)
    linked, tables = await store.privacy_export(subject)
    await store.insert_audit(
        audit.Entry(
            actor, "export", "privacy", kind, {"rows": {t: len(r) for t, r in tables.items()}}
        )
    )
    return {
        "kind": kind,
        "generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "tables": tables,
        "truncated": linked.truncated,
    }


async def retention_summary(store: Store, settings: Settings) -> dict[str, Any]:
    """The retention in force per data class and the last purge's counts."""
    return dict(await retention.summary(store, settings))


async def consent(
    store: Store, settings: Settings, params: Mapping[str, str], now: datetime | None = None
) -> dict[str, Any]:
    """Shares of visits and conversions by consent state, what was stored and forwarded under
    each, modelled totals, and the retention in force."""
    span = stats.parse_range(
        {k: v for k, v in params.items() if k in ("from", "to") and v}, now or datetime.now(UTC)
    )
    site_id: int | None = None
    raw_site = params.get("site", "").strip()
    if raw_site:
        if not raw_site.isdigit():
            raise InvalidField("site", "site must be a site id")
        site_id = int(raw_site)
        if not any(s.id == site_id for s in await store.list_sites()):
            raise NotFound(f"no site with id {site_id}", field="site")
    counts = await store.consent_counts(span.start.timestamp(), span.end.timestamp(), site_id)
    shares = privacy.consent_share(
        [StateCount(s, c["visits"], c["conversions"]) for s, c in counts.items()]
    )
    for row in shares["states"]:  # type: ignore[attr-defined]
        found = counts.get(row["state"], {})
        row["identified_events"] = found.get("identified_events", 0)
        row["conversions_with_user_data"] = found.get("user_data", 0)
        row["conversions_forwarded"] = found.get("sent", 0)
    return {
        "from": span.start.isoformat().replace("+00:00", "Z"),
        "to": span.end.isoformat().replace("+00:00", "Z"),
        "site": site_id,
        **shares,
        "retention": await retention_summary(store, settings),
    }
