"""The LRU every client-keyed cache uses: bounded by entries and by bytes, least recently used
evicted first."""

from __future__ import annotations

import pytest

from firstmark.domain.lru import ENTRY_OVERHEAD, LRU


def _len(key: str, value: str) -> int:
    return len(key) + len(value)


def test_entries_bound_evicts_the_least_recently_used() -> None:
    evicted: list[str] = []
    cache: LRU[str, str] = LRU(3, 10**9, _len, evicted.append)
    for key in "abc":
        cache.put(key, key)
    assert cache.get("a") == "a"  # a is now the most recent
    cache.put("d", "d")
    assert evicted == ["b"]
    assert list(cache) == ["c", "a", "d"]
    assert cache.peek("c") == "c"  # peek keeps c the oldest
    cache.put("e", "e")
    assert evicted == ["b", "c"]
    assert len(cache) == 3 and cache.evictions == 2


def test_bytes_bound_holds_however_long_the_keys() -> None:
    budget = 10 * (ENTRY_OVERHEAD + 1000)
    cache: LRU[str, str] = LRU(1_000_000, budget, _len)
    for i in range(1000):
        cache.put(f"{i:0>1000}", "")
        assert cache.bytes <= budget
    assert len(cache) == 10
    assert cache.get(f"{999:0>1000}") == ""
    assert cache.get(f"{0:0>1000}") is None


def test_an_entry_over_the_whole_budget_is_not_kept() -> None:
    cache: LRU[str, str] = LRU(10, ENTRY_OVERHEAD + 100, _len)
    cache.put("small", "x")
    cache.put("huge", "x" * 1000)
    assert "huge" not in cache and cache.get("small") == "x"
    cache.put("small", "y" * 1000)  # replacing with something too big drops the old value
    assert "small" not in cache and cache.bytes == 0


def test_replace_pop_and_clear_keep_the_byte_count_right() -> None:
    cache: LRU[str, str] = LRU(10, 10**6, _len)
    cache.put("a", "1")
    cache.put("a", "22")
    assert cache.bytes == ENTRY_OVERHEAD + 3
    assert cache.pop("a") == "22" and cache.pop("a") is None
    assert cache.bytes == 0
    cache.put("b", "1")
    cache.clear()
    assert len(cache) == 0 and cache.bytes == 0


def test_an_empty_budget_is_refused() -> None:
    with pytest.raises(ValueError):
        LRU(0, 100, _len)
