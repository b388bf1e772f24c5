"""A least-recently-used map bounded by entries and by bytes.

Every cache keyed by what a client sends (hosts, codes, site keys) is one of these: a request
with a new key costs at most one entry, and the cache as a whole never outgrows its byte
budget however long or many the keys are. Sizes are estimates from the caller's `weigh`
(key and value lengths plus a fixed overhead per entry), which is what matters against an
attacker who controls the lengths.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

ENTRY_OVERHEAD = 200  # bytes of dict slot, tuple and object headers per entry, roughly


class LRU(Generic[K, V]):
    def __init__(
        self,
        max_entries: int,
        max_bytes: int,
        weigh: Callable[[K, V], int],
        on_evict: Callable[[K], None] | None = None,
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("an LRU needs room for at least one entry")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.weigh = weigh
        self.on_evict = on_evict
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self.bytes = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._items))

    def get(self, key: K) -> V | None:
        """The value (now the most recently used), or None."""
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def peek(self, key: K) -> V | None:
        """The value without touching its recency."""
        found = self._items.get(key)
        return None if found is None else found[0]

    def put(self, key: K, value: V) -> None:
        """Store (or replace) `key`, then evict the least recently used entries until both
        bounds hold. An entry heavier than the whole budget is not kept at all."""
        size = ENTRY_OVERHEAD + self.weigh(key, value)
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        if size > self.max_bytes:
            if old is not None and self.on_evict is not None:
                self.on_evict(key)
            return
        self._items[key] = (value, size)
        self.bytes += size
        while len(self._items) > self.max_entries or self.bytes > self.max_bytes:
            gone, (_, gone_size) = self._items.popitem(last=False)
            self.bytes -= gone_size
            self.evictions += 1
            if self.on_evict is not None:
                self.on_evict(gone)

    def pop(self, key: K) -> V | None:
        found = self._items.pop(key, None)
        if found is None:
            return None
        self.bytes -= found[1]
        return found[0]

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0
