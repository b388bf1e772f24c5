"""An operator's channel rules and referrer exclusions, the same on both engines."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from firstmark.domain.channels import Rule
from firstmark.store.sql.executor import SharedSQL

_COLUMNS = "id, action, field, match, value, channel, created_at"


def _rule(row: Sequence[Any]) -> Rule:
    rid, action, field, match, value, channel, created = row
    return Rule(action, field, match, value, channel, int(rid), float(created))


class ChannelSQL(SharedSQL):
    async def insert_channel_rule(self, rule: Rule) -> Rule:
        rows = await self.db.write(
            "INSERT INTO channel_rules (action, field, match, value, channel, created_at) "
            f"VALUES (?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
            (rule.action, rule.field, rule.match, rule.value, rule.channel, int(time.time())),
        )
        return _rule(rows[0])

    async def list_channel_rules(self) -> list[Rule]:
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM channel_rules ORDER BY id")
        return [_rule(r) for r in rows]

    async def delete_channel_rule(self, rule_id: int) -> bool:
        return bool(await self.db.execute("DELETE FROM channel_rules WHERE id = ?", (rule_id,)))
