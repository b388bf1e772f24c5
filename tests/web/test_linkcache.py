"""The link cache: changes heard from other nodes drop the right entries, and an unreachable
database makes expired entries serve on instead of failing."""

from __future__ import annotations

import asyncio

import pytest

from firstmark.domain.links import Link
from firstmark.errors import StoreUnavailable
from firstmark.store import Domain, Store
from firstmark.web import linkcache
from firstmark.web.linkcache import LinkCache


class Unplugged:
    """A store whose database can be cut off."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.down = False

    def __getattr__(self, name: str) -> object:
        if self.down:
            raise StoreUnavailable("cannot use the database: connection refused")
        return getattr(self.store, name)


async def test_changes_from_other_nodes_drop_what_they_name(store: Store) -> None:
    await store.insert_link(Link(destination="https://a.example/", code="a"))
    await store.insert_link(Link(destination="https://b.example/", code="b"))
    await store.upsert_domain(Domain("go.example", "https://fallback.example/"))
    cache = LinkCache(store, token_param="fm_click", ttl=300)
    for host in ("x.example", "y.example"):
        assert await cache.get(host, "a") is not None
    assert await cache.get("x.example", "b") is not None
    assert await cache.domain("go.example") is not None
    await store.upsert_domain(Domain("go.example", None))

    misses = cache.misses
    cache.on_change("link", "a")  # both hosts' entries for "a" go, "b" stays
    assert cache.peek("x.example", "b") is not None
    await cache.get("x.example", "a")
    await cache.get("y.example", "a")
    assert cache.misses == misses + 2
    cache.on_change("domain", "go.example")
    assert await cache.domain("go.example") == Domain("go.example", None)
    cache.on_change("*", "")  # notifications were missed: everything goes
    await cache.get("x.example", "b")
    assert cache.misses == misses + 3


async def test_expired_entries_serve_while_the_database_is_away(store: Store) -> None:
    await store.insert_link(Link(destination="https://a.example/", code="a"))
    await store.upsert_domain(Domain("go.example", "https://fallback.example/"))
    unplugged = Unplugged(store)
    cache = LinkCache(unplugged, token_param="fm_click", ttl=0.01)  # type: ignore[arg-type]
    target = await cache.get("go.example", "a")
    assert target is not None
    assert await cache.domain("go.example") is not None
    await asyncio.sleep(0.02)
    unplugged.down = True
    assert await cache.get("go.example", "a") is target
    assert cache.stale == 1
    assert await cache.domain("go.example") == Domain("go.example", "https://fallback.example/")
    with pytest.raises(StoreUnavailable):
        await cache.get("go.example", "never-seen")
    unplugged.down = False
    await asyncio.sleep(0.02)
    assert await cache.get("go.example", "a") is not target  # fresh from the database again


async def test_unique_hosts_and_codes_never_grow_the_caches_past_their_bounds(
    store: Store,
) -> None:
    await store.insert_link(Link(destination="https://a.example/", code="real"))
    cache = LinkCache(store, token_param="fm_click", ttl=300, size=50)
    assert await cache.get("go.example", "real") is not None
    budget = 0
    for i in range(3000):
        host = f"h{i}-" + "x" * 240  # long, unique Host headers
        assert await cache.get(host, f"nope{i}") is None
        assert await cache.domain(host) is None
        budget = max(budget, cache.bytes)
    # The 404 cache and the host cache are capped; a flood of unknowns leaves the real link.
    assert len(cache._unknown) <= linkcache.UNKNOWN_ENTRIES
    assert cache.bytes <= linkcache.UNKNOWN_BYTES + linkcache.DOMAIN_BYTES + 10_000
    assert cache.peek("go.example", "real") is not None
    assert len(cache._hosts) <= linkcache.UNKNOWN_ENTRIES + 1


async def test_unknown_codes_are_evicted_least_recently_used_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linkcache, "UNKNOWN_ENTRIES", 100)
    cache = LinkCache(store, token_param="fm_click", ttl=300)
    for i in range(100):
        await cache.get("go.example", f"c{i}")
    assert cache.peek("go.example", "c0") is None  # cached as unknown, now the most recent
    await cache.get("go.example", "c100")
    assert cache.peek("go.example", "c0") is None
    assert cache.peek("go.example", "c1") is linkcache.MISSING  # the oldest went
    assert "c1" not in cache._hosts and "c100" in cache._hosts
    # A link created for a code cached as unknown shows at once after invalidation.
    await store.insert_link(Link(destination="https://new.example/", code="c100"))
    cache.invalidate_code("c100")
    assert await cache.get("go.example", "c100") is not None
