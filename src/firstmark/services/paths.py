"""Touch paths for the data-driven model and the paths report (docs/attribution.md).

The model depends on every path of a report's range, so it is computed when a report asks,
not stored per conversion like the five rule-based models. The counted paths are kept per
(range, grouping, currency, goal) until the store says something changed (a touch or a
conversion added or purged, a conversion shared out), so a report seen again is only the
model's arithmetic over a few thousand distinct paths, and the model itself is kept too.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any

from firstmark.domain import datadriven, groupings, reports
from firstmark.domain.lru import LRU
from firstmark.domain.paths import PathData
from firstmark.errors import InvalidField
from firstmark.services import credits
from firstmark.services.reports import Window
from firstmark.store import Store

CACHED = 32  # path counts and models kept per store
BUDGET = 64 * 2**20  # bytes they may take, roughly: a million paths by channel are ~5 MB

_Entry = tuple[tuple[Any, ...], Any]
_caches: weakref.WeakKeyDictionary[Store, LRU[tuple[Any, ...], _Entry]] = (
    weakref.WeakKeyDictionary()
)


def _cache(store: Store) -> LRU[tuple[Any, ...], _Entry]:
    found = _caches.get(store)
    if found is None:
        found = _caches[store] = LRU(CACHED, BUDGET, _weigh)
    return found


def _weigh(_key: tuple[Any, ...], entry: _Entry) -> int:
    """Bytes an entry holds, roughly: ~100 a distinct path plus ~80 a step; a model ~300 a
    group. Counts by campaign over a million visitors (~350,000 distinct paths) are more than
    the whole budget and are not kept: the database counts them again."""
    value = entry[1]
    if isinstance(value, PathData):
        paths = [p.steps for p in value.converting] + [p.steps for p in value.lost]
        return sum(100 + 80 * len(steps) for steps in paths)
    if isinstance(value, datadriven.Model):
        return 300 * len(value.weights)
    return 1_000


def forget() -> None:
    """Drop every kept path count and model, as a restart does."""
    _caches.clear()


def _remembered(store: Store, key: tuple[Any, ...], version: tuple[Any, ...]) -> Any:
    found = _cache(store).get(key)
    return found[1] if found is not None and found[0] == version else None


async def paths(
    store: Store,
    dims: Sequence[str],
    window: Window,
    currency: str | None,
    goal_id: int | None = None,
) -> PathData:
    """The range's converting and non-converting paths, each step keyed by `dims` (channel
    among them). Conversions not shared out yet are shared out first, as the attribution
    report does."""
    if await store.credits_pending():
        await credits.credit_range(store, window.start, window.end)
    asked = groupings.query_dimensions(dims)
    version = await store.path_version()
    key = ("paths", window.start, window.end, asked, currency, goal_id)
    data = _remembered(store, key, version)
    if data is None:
        data = await store.touch_paths(asked, window.start, window.end, currency, goal_id)
        _cache(store).put(key, (version, data))
    if tuple(asked) != tuple(dims):  # by channel: under the rules of now, kept with them
        rules = await store.list_channel_rules()
        by_rules = (*key, tuple(dims), repr(rules))
        grouped = _remembered(store, by_rules, version)
        if grouped is None:
            grouped = data.regroup(lambda k: groupings.regroup(k, dims, asked, rules))
            _cache(store).put(by_rules, (version, grouped))
        data = grouped
    assert isinstance(data, PathData)
    return data


async def model(
    store: Store,
    dims: Sequence[str],
    window: Window,
    currency: str | None,
    how: str = datadriven.MARKOV,
) -> datadriven.Model:
    """The data-driven model of the range (kept like the paths it was learned from)."""
    data = await paths(store, dims, window, currency)
    rules = await store.list_channel_rules() if groupings.CHANNEL in dims else []
    key = ("model", window.start, window.end, tuple(dims), currency, how, repr(rules))
    version = await store.path_version()
    found = _remembered(store, key, version)
    if found is None:
        found = await learn(data, how)
        _cache(store).put(key, (version, found))
    assert isinstance(found, datadriven.Model)
    return found


async def learn(data: PathData, how: str) -> datadriven.Model:
    """datadriven.learn, with the Markov chain's removal effects worked out in slices, a turn
    of the event loop between two: up to DENSE_MAX groups from one matrix inverse, a pivot at a
    time (about 5 ms each with 240 campaigns); past it (thousands of links, say) one group at
    a time, a few sweeps over the chain each."""
    if how != datadriven.MARKOV or data.conversions < datadriven.MINIMUM:
        return datadriven.learn(data, how)
    chain = datadriven.chain(data)
    full = datadriven.solve(chain)
    if len(chain.groups) <= datadriven.DENSE_MAX:
        for inverse in datadriven.fundamental(chain):
            if inverse is None:
                await asyncio.sleep(0)
        assert inverse is not None
        weights = datadriven.effects_from(chain, inverse, full)
        return datadriven.learn(data, how, weights=weights)
    weights = {}
    for state, group in enumerate(chain.groups, start=1):
        weights[group] = datadriven.removal_effect(chain, state, full)
        await asyncio.sleep(0)
    return datadriven.learn(data, how, weights=weights)


async def goal_named(store: Store, name: str | None) -> int | None:
    """The id of the goal `name` (None: every goal); an unknown name is refused."""
    if not name:
        return None
    by_name = {g.name: g.id for g in await store.list_goals()}
    if name not in by_name:
        raise InvalidField("goal", f"no goal named {name!r}", code="unknown_goal")
    return by_name[name]


async def currency(store: Store, window: Window, requested: str | None) -> str | None:
    """The currency revenue is reported in, chosen as the attribution report chooses it."""
    conversions = await store.conversion_totals((), window.start, window.end)
    return reports.pick_currency(requested, [], conversions)
