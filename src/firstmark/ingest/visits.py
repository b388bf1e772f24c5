"""Visits built on write: the event writer hands each batch's events here, in time order.

`Visits` keeps the open visit of each key (session id or daily visitor hash) in memory, bounded
and dropped 30 minutes after its last event; a key it does not hold is looked up in the store
once per batch (another process, or a restart, may have opened it; on SQLite the process
holding the database answers from memory, store/sqlite/openvisits.py). `domain.visits.advance`
decides; the changed visits go back to the writer, which stores them in the batch's
transaction. `RuleCache` holds the operator's channel rules for the grouping.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from firstmark.domain import visits as visit_rules
from firstmark.domain.channels import Rule
from firstmark.domain.devices import Device
from firstmark.domain.events import Event
from firstmark.domain.visits import Visit
from firstmark.store import Store

RULES_TTL_S = 5.0
SITES_TTL_S = 30.0
MAX_OPEN = 200_000


class RuleCache:
    """The operator's channel rules, re-read every few seconds or when told (like the goals)."""

    def __init__(self, store: Store, ttl: float = RULES_TTL_S) -> None:
        self.store = store
        self.ttl = ttl
        self._rules: tuple[Rule, ...] = ()
        self._until = 0.0

    def invalidate(self) -> None:
        self._until = 0.0

    async def rules(self) -> tuple[Rule, ...]:
        now = time.monotonic()
        if now >= self._until:
            self._rules = tuple(await self.store.list_channel_rules())
            self._until = now + self.ttl
        return self._rules


@dataclass(frozen=True, slots=True)
class Step:
    """One event of a batch as the visit builder reads it."""

    event: Event
    device: Device
    click_ids: tuple[str, ...]  # kinds present on the landing, whatever the consent


class Visits:
    def __init__(self, store: Store, rules: RuleCache, capacity: int = MAX_OPEN) -> None:
        self.store = store
        self.rules = rules
        self.capacity = capacity
        self._open: OrderedDict[tuple[int, str], Visit] = OrderedDict()
        self._hosts: dict[int, tuple[str, ...]] = {}
        self._hosts_until = 0.0

    async def _own_hosts(self) -> dict[int, tuple[str, ...]]:
        now = time.monotonic()
        if now >= self._hosts_until:
            self._hosts = {
                s.id: tuple(s.hosts) for s in await self.store.list_sites() if s.id is not None
            }
            self._hosts_until = now + SITES_TTL_S
        return self._hosts

    def forget(self) -> None:
        """Drop what is held in memory (the store has it all)."""
        self._open.clear()

    async def apply(self, steps: Sequence[Step]) -> tuple[list[Visit], list[tuple[Visit, bool]]]:
        """Advance the visits by a batch's events: (every visit changed, once each, latest
        state; each event's visit and whether it opened it, in `steps` order)."""
        rules = await self.rules.rules()
        hosts = await self._own_hosts()
        keys = [(s.event.site_id, visit_rules.visit_key(s.event)) for s in steps]
        missing = {k for k in keys if k not in self._open}
        if missing:
            since = min(s.event.ts for s in steps) - visit_rules.TIMEOUT_S
            for found in await self.store.open_visits(sorted(missing), since):
                self._open[(found.site_id, found.key)] = found
        changed: dict[tuple[int, str, float], Visit] = {}
        out: list[tuple[Visit, bool]] = []
        order = sorted(range(len(steps)), key=lambda i: steps[i].event.ts)
        results: list[tuple[Visit, bool] | None] = [None] * len(steps)
        for i in order:
            step, key = steps[i], keys[i]
            event = step.event
            landing = visit_rules.landing_of(
                event, step.click_ids, rules=rules, own_hosts=hosts.get(event.site_id, ())
            )
            current = self._open.get(key)
            visit, new = visit_rules.advance(
                current, event, landing, key=key[1], browser=step.device.browser,
                os=step.device.os, rules=rules,
            )  # fmt: skip
            if not new and current is not None:
                changed.pop((current.site_id, current.key, current.started), None)
            self._open[key] = visit
            self._open.move_to_end(key)
            changed[(visit.site_id, visit.key, visit.started)] = visit
            results[i] = (visit, new)
        for result in results:
            assert result is not None
            out.append(result)
        self._trim(max((s.event.ts for s in steps), default=0.0))
        return list(changed.values()), out

    def update(self, visit: Visit) -> None:
        """A visit changed after `apply` (a conversion counted): hold its latest state."""
        key = (visit.site_id, visit.key)
        held = self._open.get(key)
        if held is not None and held.started == visit.started:
            self._open[key] = visit

    def _trim(self, now: float) -> None:
        while len(self._open) > self.capacity:
            self._open.popitem(last=False)
        # The least recently touched first: stop at the first one still open.
        while self._open:
            key, visit = next(iter(self._open.items()))
            if now - visit.last_ts <= visit_rules.TIMEOUT_S:
                break
            del self._open[key]
