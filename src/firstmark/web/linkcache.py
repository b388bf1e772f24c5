"""The in-process link cache: (host, code) → compiled link, or a brief negative entry.

Edits made through this process invalidate their codes at once; on PostgreSQL every node also
hears every other node's edits (LISTEN/NOTIFY, `on_change`). A TTL bounds how long an edit the
cache did not hear of (the CLI on SQLite, a lost notification) can take to show. When the
database is unreachable, expired entries keep serving rather than failing the redirect. The cache
also keeps the running human-hit count of links with `max_hits`, so a limit holds before the
writer has flushed.

Every map here is keyed by what a client sends (the Host header, the path), so each is an LRU
bounded by entries and by bytes (domain/lru.py): links, unknown codes (the 404 cache) and
hosts. Unknown codes have their own budget, so a flood of made-up codes or hosts evicts only
other unknowns, never the links real clicks need.
"""

from __future__ import annotations

import logging
import time

from firstmark.domain import schedules
from firstmark.domain.links import Link
from firstmark.domain.lru import LRU
from firstmark.domain.redirects import Target, compile_link
from firstmark.errors import StoreUnavailable
from firstmark.store import Domain, Store

log = logging.getLogger("firstmark.web.linkcache")

_MISSING = object()

LINK_BYTES = 64 * 2**20  # links: at most 64 MB, besides FIRSTMARK_LINK_CACHE_SIZE entries
UNKNOWN_ENTRIES = 20_000  # the 404 cache: (host, code) pairs with no link
UNKNOWN_BYTES = 8 * 2**20
DOMAIN_ENTRIES = 10_000  # hosts looked up for a fallback URL
DOMAIN_BYTES = 4 * 2**20

Key = tuple[str, str]


def _link_weight(key: Key, entry: tuple[float, Target | None]) -> int:
    target = entry[1]
    size = 2 * (len(key[0]) + len(key[1]))
    if target is not None:
        link = target.link
        # The compiled link holds the destination a few times over (link, base, rules).
        size += 1500 + 4 * len(link.destination) + 600 * len(target.rules)
    return size


def _unknown_weight(key: Key, expires: float) -> int:
    return 2 * (len(key[0]) + len(key[1]))


def _domain_weight(host: str, entry: tuple[float, Domain | None]) -> int:
    domain = entry[1]
    fallback = domain.fallback_url if domain is not None else None
    return 2 * len(host) + (300 + 2 * len(fallback or "") if domain is not None else 0)


class LinkCache:
    def __init__(
        self, store: Store, *, token_param: str, ttl: float = 5.0, size: int = 100_000
    ) -> None:
        self.store = store
        self.token_param = token_param
        self.ttl = ttl
        self.size = size
        self._entries: LRU[Key, tuple[float, Target | None]] = LRU(
            max(1, size), LINK_BYTES, _link_weight, self._forget
        )
        self._unknown: LRU[Key, float] = LRU(
            UNKNOWN_ENTRIES, UNKNOWN_BYTES, _unknown_weight, self._forget
        )
        self._hosts: dict[str, set[str]] = {}  # code → hosts it is cached under
        self._counts: dict[int, int] = {}  # link id → human hits so far (max_hits links)
        self._domains: LRU[str, tuple[float, Domain | None]] = LRU(
            DOMAIN_ENTRIES, DOMAIN_BYTES, _domain_weight
        )
        self.hits = 0
        self.misses = 0
        self.stale = 0  # answers served past their TTL because the database was unreachable

    def peek(self, host: str, code: str) -> Target | object | None:
        """The cached entry, or _MISSING; no await, so a warm click never yields."""
        key = (host, code)
        entry = self._entries.get(key)
        if entry is not None:
            if entry[0] < time.monotonic():
                return _MISSING
            self.hits += 1
            return entry[1]
        expires = self._unknown.get(key)
        if expires is None or expires < time.monotonic():
            return _MISSING
        self.hits += 1
        return None

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
            key = (host, code)
            stale = self._entries.peek(key)
            if stale is None:
                if key not in self._unknown:
                    raise
                stale = (0.0, None)
            # The database is away: the last known answer is better than an error page.
            self.stale += 1
            self._remember(host, code, stale[1], min(self.ttl, 1.0))
            return stale[1]
        self._remember(host, code, target, self.ttl)
        return target

    def _remember(self, host: str, code: str, target: Target | None, ttl: float) -> None:
        key = (host, code)
        expires = time.monotonic() + ttl
        if target is None:
            self._entries.pop(key)
            self._unknown.put(key, expires)
        else:
            self._unknown.pop(key)
            self._entries.put(key, (expires, target))
        if key in self._entries or key in self._unknown:
            self._hosts.setdefault(code, set()).add(host)

    def _forget(self, key: Key) -> None:
        """An entry was evicted: its code no longer needs to know the host."""
        if key in self._entries or key in self._unknown:
            return  # still cached in the other map (a link that was unknown a moment ago)
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
            self._entries.pop((host, code))
            self._unknown.pop((host, code))

    def on_change(self, kind: str, key: str) -> None:
        """A change another process made (store.watch_changes)."""
        if kind == "link":
            self.invalidate_code(key)
        elif kind == "domain":
            self._domains.pop(key)
        else:
            log.info("link cache cleared: change notifications may have been missed")
            self.clear()

    def clear(self) -> None:
        self._entries.clear()
        self._unknown.clear()
        self._hosts.clear()
        self._domains.clear()

    @property
    def entries(self) -> int:
        """Cached links and unknown codes together."""
        return len(self._entries) + len(self._unknown)

    @property
    def bytes(self) -> int:
        """Estimated size of the three caches."""
        return self._entries.bytes + self._unknown.bytes + self._domains.bytes

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
        self._domains.put(host, (time.monotonic() + self.ttl, found))
        return found


MISSING = _MISSING
