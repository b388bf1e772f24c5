"""Channel rules: what the API, the dashboard and the event writer do with an operator's rules
and referrer exclusions (domain/channels.py holds the grouping itself)."""

from __future__ import annotations

from firstmark.domain import channels
from firstmark.domain.channels import Rule
from firstmark.errors import NotFound
from firstmark.store import Store


async def create_rule(store: Store, data: object) -> Rule:
    return await store.insert_channel_rule(channels.parse_rule(data))


async def delete_rule(store: Store, rule_id: int) -> None:
    if not await store.delete_channel_rule(rule_id):
        raise NotFound(f"no channel rule with id {rule_id}")
