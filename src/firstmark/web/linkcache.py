"""The in-process link cache: (host, code) → compiled link, or a brief negative entry.

Edits made through this process invalidate their codes at once; on PostgreSQL every node also
hears every other node's edits (LISTEN/NOTIFY, `on_change`). A TTL bounds how long an edit the
cache did not hear of (the CLI on SQLite, a lost notification) can take to show. When the
database is unreachable, expired entries keep serving rather than failing the redirect. The cache
also keeps the running human-hit count of links with `max_hits`, so a limit holds before the
writer has flushed.
"""

from __future__ import annotations

import logging
import time

from firstmark.domain import schedules
from firstmark.domain.links import Link
from firstmark.domain.redirects import Target, compile_link
from firstmark.errors import StoreUnavailable
from firstmark.store import Domain, Store

log = logging.getLogger("firstmark.web.linkcache")

_MISSING = object()


class LinkCache:
    def __init__(
        self, store: Store, *, token_param: str, ttl: float = 5.0, size: int = 100_000
    ) -> None:
        self.store = store
        self.token_param = token_param
        self.ttl = ttl
        self.size = size
        self._entries: dict[tuple[str, str], tuple[float, Target | None]] = {}
        self._hosts: dict[str, set[str]] = {}  # code → hosts it is cached under
        self._counts: dict[int, int] = {}  # link id → human hits so far (max_hits links)
        self._domains: dict[str, tuple[float, Domain | None]] = {}
        self.hits = 0
        self.misses = 0
        self.stale = 0  # answers served past their TTL because the database was unreachable

    def peek(self, host: str, code: str) -> Target | object | None:
        """The cached entry, or _MISSING; no await, so a warm click never yields."""
        entry = self._entries.get((host, code))
        if entry is None or entry[0] < time.monotonic():
            return _MISSING
        self.hits += 1
        return entry[1]

    async def get(self, host: str, code: str) -> Target | None:
        found = self.peek(host, code)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        return await self.load(host, code)

    async def load(self, host: str, code: str) -> Target | None:
        self.misses += 1
        try:
            link = await self.store.link_by_code(host, code)
            target = None
            if link is not None:
                if link.id is not None:
                    # An event schedule (the link's own, or its parent's for a placement) becomes
                    # time-window rules and an expiry here, once, not on every scan.
                    link = schedules.apply(link, await self.store.schedule_for_link(link.id))
                target = compile_link(link, self.token_param)
                if link.max_hits is not None and link.id is not None:
                    stored = await self.store.human_hit_count(link.id)
                    self._counts[link.id] = max(self._counts.get(link.id, 0), stored)
        except StoreUnavailable:
            stale = self._entries.get((host, code))
            if stale is None:
                raise
            # The database is away: the last known answer is better than an error page.
            self.stale += 1
            self._entries[(host, code)] = (time.monotonic() + min(self.ttl, 1.0), stale[1])
            return stale[1]
        if len(self._entries) >= self.size:
            self._evict()
        self._entries[(host, code)] = (time.monotonic() + self.ttl, target)
        self._hosts.setdefault(code, set()).add(host)
        return target

    def _evict(self) -> None:
        """Drop the oldest tenth (dicts keep insertion order): cheap and good enough."""
        for key in list(self._entries)[: max(1, self.size // 10)]:
            del self._entries[key]
            hosts = self._hosts.get(key[1])
            if hosts is not None:
                hosts.discard(key[0])
                if not hosts:
                    del self._hosts[key[1]]

    def invalidate(self, *links: Link) -> None:
        for link in links:
            self.invalidate_code(link.code)

    def invalidate_code(self, code: str) -> None:
        for host in self._hosts.pop(code, set()):
            self._entries.pop((host, code), None)

    def on_change(self, kind: str, key: str) -> None:
        """A change another process made (store.watch_changes)."""
        if kind == "link":
            self.invalidate_code(key)
        elif kind == "domain":
            self._domains.pop(key, None)
        else:
            log.info("link cache cleared: change notifications may have been missed")
            self.clear()

    def clear(self) -> None:
        self._entries.clear()
        self._hosts.clear()
        self._domains.clear()

    def hit_count(self, link_id: int) -> int:
        return self._counts.get(link_id, 0)

    def count_hit(self, link_id: int) -> None:
        self._counts[link_id] = self._counts.get(link_id, 0) + 1

    async def domain(self, host: str) -> Domain | None:
        entry = self._domains.get(host)
        if entry is not None and entry[0] >= time.monotonic():
            return entry[1]
        try:
            found = await self.store.get_domain(host)
        except StoreUnavailable:
            if entry is None:
                raise
            found = entry[1]
        self._domains[host] = (time.monotonic() + self.ttl, found)
        return found


MISSING = _MISSING
