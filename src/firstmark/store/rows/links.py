"""Rows of the links table as Link objects and back, shared by the engines."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from firstmark.domain.links import Link
from firstmark.domain.rules import parse_rules, rules_to_json
from firstmark.domain.variants import Variant, parse_variants, variants_to_json
from firstmark.errors import InvalidField
from firstmark.store.rows.values import epoch, from_epoch

LINK_COLUMNS = (
    "id", "domain", "code", "destination", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content", "utm_id", "campaign", "tags", "kind", "placement", "redirect_status",
    "forward_query", "click_token", "valid_from", "expires_at", "max_hits", "fallback_url",
    "password_hash", "rules", "noindex", "archived", "created_at", "updated_at", "version",
    "variants",
)  # fmt: skip
LINK_SELECT = f"SELECT {', '.join(LINK_COLUMNS)} FROM links"


def link_params(link: Link) -> dict[str, Any]:
    """A link as column values (without id); missing times are now."""
    now = int(time.time())
    return {
        "domain": link.domain,
        "code": link.code,
        "destination": link.destination,
        "utm_source": link.utm_source,
        "utm_medium": link.utm_medium,
        "utm_campaign": link.utm_campaign,
        "utm_term": link.utm_term,
        "utm_content": link.utm_content,
        "utm_id": link.utm_id,
        "campaign": link.campaign,
        "tags": json.dumps(list(link.tags)),
        "kind": link.kind,
        "placement": link.placement,
        "redirect_status": link.redirect_status,
        "forward_query": link.forward_query,
        "click_token": link.click_token,
        "valid_from": epoch(link.valid_from),
        "expires_at": epoch(link.expires_at),
        "max_hits": link.max_hits,
        "fallback_url": link.fallback_url,
        "password_hash": link.password_hash,
        "rules": json.dumps(rules_to_json(link.rules)),
        "noindex": link.noindex,
        "archived": link.archived,
        "created_at": epoch(link.created_at) or now,
        "updated_at": epoch(link.updated_at) or now,
        "version": link.version,
        "variants": json.dumps(variants_to_json(link.variants)),
    }


def link_from_row(row: Sequence[Any]) -> Link:
    values = dict(zip(LINK_COLUMNS, row, strict=True))
    try:
        rules = parse_rules(json.loads(values["rules"]))
    except InvalidField:  # a rule the current code no longer accepts: keep the link working
        rules = ()
    return Link(
        id=values["id"],
        domain=values["domain"],
        code=values["code"],
        destination=values["destination"],
        utm_source=values["utm_source"],
        utm_medium=values["utm_medium"],
        utm_campaign=values["utm_campaign"],
        utm_term=values["utm_term"],
        utm_content=values["utm_content"],
        utm_id=values["utm_id"],
        campaign=values["campaign"],
        tags=tuple(json.loads(values["tags"])),
        kind=values["kind"],
        placement=values["placement"],
        redirect_status=values["redirect_status"],
        forward_query=bool(values["forward_query"]),
        click_token=bool(values["click_token"]),
        valid_from=from_epoch(values["valid_from"]),
        expires_at=from_epoch(values["expires_at"]),
        max_hits=values["max_hits"],
        fallback_url=values["fallback_url"],
        password_hash=values["password_hash"],
        rules=rules,
        noindex=bool(values["noindex"]),
        archived=bool(values["archived"]),
        created_at=from_epoch(values["created_at"]),
        updated_at=from_epoch(values["updated_at"]),
        version=values["version"],
        variants=_variants(values["variants"]),
    )


def _variants(text: str) -> tuple[Variant, ...]:
    try:
        return parse_variants(json.loads(text))
    except InvalidField:  # a split the current code no longer accepts: keep the link working
        return ()
