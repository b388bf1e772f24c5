"""Store contract for A/B links (every engine): the split saved with the link, hits counted
per variant in a rollup that outlives them, and conversions by the variant they name."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from firstmark.domain.abtest import VariantCounts
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.goals import Goal
from firstmark.domain.hits import Hit
from firstmark.domain.links import Link
from firstmark.domain.variants import Variant
from firstmark.store.protocol import Store

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
TS = NOW.timestamp()
A, B = "https://shop.example/a", "https://shop.example/b"


def hit(link_id: int, visitor: str, variant: int | None, *, bot: bool = False) -> Hit:
    return Hit(
        link_id, TS, "click", visitor, "NO", None, None, "desktop", "Windows", "Chrome", None,
        bot, "crawler" if bot else None, "nb", variant,
    )  # fmt: skip


async def test_a_split_is_saved_and_ended_with_its_link(any_store: Store) -> None:
    split = (Variant(A, 1), Variant(B, 2.5))
    saved = await any_store.insert_link(Link(destination=A, code="ab", variants=split))
    assert saved.variants == split
    assert (await any_store.link_by_code("", "ab")) == saved
    ended = await any_store.update_link(replace(saved, variants=(), version=saved.version + 1))
    assert ended.variants == () and (await any_store.get_link(saved.id or 0)) == ended


async def test_hits_and_conversions_are_counted_per_variant(any_store: Store) -> None:
    link = await any_store.insert_link(Link(destination=A, code="ab"))
    other = await any_store.insert_link(Link(destination=B, code="plain"))
    assert link.id is not None and other.id is not None
    await any_store.write_hits(
        [
            hit(link.id, "v1", 0),
            hit(link.id, "v1", 0),  # the same visitor again: one visitor, two clicks
            hit(link.id, "v2", 1),
            hit(link.id, "bot", 1, bot=True),  # flagged, never a click
            hit(other.id, "v3", None),  # a plain link counts in no split
        ]
    )
    await any_store.write_hits([hit(link.id, "v3", 1)])  # a later batch adds up
    goal = await any_store.insert_goal(Goal("order", created_at=NOW))
    assert goal.id is not None
    await any_store.insert_conversions(
        [
            Conversion(f"e{n}", goal.id, TS, Consent(), "server", value=value, currency="EUR",
                       link_id=link.id, variant=variant)
            for n, (variant, value) in enumerate([(1, 10.0), (1, 5.5), (0, None), (None, 9.0)])
        ]
    )  # fmt: skip

    assert await any_store.variant_counts(link.id) == {
        0: VariantCounts(clicks=2, visitors=1, conversions=1, revenue=0.0),
        1: VariantCounts(clicks=2, visitors=2, conversions=2, revenue=15.5),
    }
    assert await any_store.variant_counts(other.id) == {}
    assert await any_store.count_hits(link.id) == 5
