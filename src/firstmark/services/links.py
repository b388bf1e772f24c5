"""What the API and the CLI both do with links: domain rules first, then the store.

Kept apart from web/ and cli.py so the two front doors cannot drift apart.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from firstmark.config import Settings
from firstmark.domain import abtest, links
from firstmark.domain.links import Link, LinkPolicy, Prepared
from firstmark.domain.passwords import hash_password
from firstmark.domain.times import now
from firstmark.domain.utm import taxonomy
from firstmark.errors import Conflict, NotFound, SlugTaken
from firstmark.services import webhooks
from firstmark.services.workers import Workers, run
from firstmark.store import Store

CODE_ATTEMPTS = 8


def policy(settings: Settings) -> LinkPolicy:
    return LinkPolicy(
        default_host=settings.default_host,
        taxonomy=taxonomy(settings.utm_sources, settings.utm_mediums),
        allowed_hosts=settings.allowed_destination_hosts,
    )


async def with_password(prepared: Prepared, workers: Workers | None = None) -> Link:
    """The prepared link with its new password hashed, on a worker thread: scrypt takes tens
    of milliseconds that would hold every redirect on the event loop."""
    if prepared.password is None:
        return prepared.link
    hashed = await run(workers, hash_password, prepared.password, cpu=False)
    return replace(prepared.link, password_hash=hashed)


async def create_link(
    store: Store, rules: LinkPolicy, data: object, workers: Workers | None = None
) -> Prepared:
    """Validate and store a new link; a generated code that collides is drawn again."""
    prepared = links.new_link(data, rules, now(), await store.utm_values_in_use())
    link = await with_password(prepared, workers)
    for _ in range(CODE_ATTEMPTS):
        try:
            saved = await store.insert_link(link)
            await webhooks.link_changed(store, "link.created", saved)
            return replace(prepared, link=saved, password=None)
        except SlugTaken:
            if prepared.code_given:
                raise
            link = replace(link, code=links.generate_code())
    raise SlugTaken(link.domain, link.code)


async def get_link(store: Store, link_id: int) -> Link:
    link = await store.get_link(link_id)
    if link is None:
        raise NotFound(f"no link with id {link_id}")
    return link


async def find_link(store: Store, ref: str, host: str = "") -> Link:
    """A link by id ('42') or by code ('spring')."""
    if ref.isdigit():
        found = await store.get_link(int(ref))
        if found is not None:
            return found
    found = await store.link_by_code(host, ref)
    if found is None:
        raise NotFound(f"no link with id or code {ref!r}")
    return found


async def update_link(
    store: Store, rules: LinkPolicy, link_id: int, data: object, workers: Workers | None = None
) -> Prepared:
    current = await get_link(store, link_id)
    prepared = links.apply_patch(current, data, rules, now(), await store.utm_values_in_use())
    saved = await store.update_link(await with_password(prepared, workers))
    archived = saved.archived and not current.archived
    await webhooks.link_changed(store, "link.archived" if archived else "link.updated", saved)
    return replace(prepared, link=saved, password=None)


async def archive_link(store: Store, link_id: int) -> Link:
    current = await get_link(store, link_id)
    if current.archived:
        return current
    changed = replace(current, archived=True, updated_at=now(), version=current.version + 1)
    saved = await store.update_link(changed)
    await webhooks.link_changed(store, "link.archived", saved)
    return saved


async def unarchive_link(store: Store, link_id: int) -> Link:
    """Archiving is reversible: the link answers again as before, its stats untouched."""
    current = await get_link(store, link_id)
    if not current.archived:
        return current
    changed = replace(current, archived=False, updated_at=now(), version=current.version + 1)
    saved = await store.update_link(changed)
    await webhooks.link_changed(store, "link.updated", saved)
    return saved


async def variant_report(store: Store, link_id: int) -> dict[str, Any]:
    """An A/B link's variants with their counts and the test against the control (variant 0);
    after a split ended, the variants counted before (without URL)."""
    link = await get_link(store, link_id)
    rows = abtest.report(link.variants, await store.variant_counts(link_id))
    return {
        "link_id": link_id,
        "split": bool(link.variants),
        "alpha": abtest.ALPHA,
        "min_clicks": abtest.MIN_CLICKS,
        "min_conversions": abtest.MIN_CONVERSIONS,
        "variants": rows,
    }


async def promote_variant(store: Store, link_id: int, index: int) -> tuple[Link, Link]:
    """The winner's URL becomes the link's destination and the split ends: (before, after)."""
    current = await get_link(store, link_id)
    if not current.variants:
        raise Conflict("the link is not split between variants", field="variant")
    if not 0 <= index < len(current.variants):
        raise NotFound(f"link {link_id} has no variant {index}")
    changed = replace(
        current,
        destination=current.variants[index].url,
        variants=(),
        updated_at=now(),
        version=current.version + 1,
    )
    saved = await store.update_link(changed)
    await webhooks.link_changed(store, "link.updated", saved)
    return current, saved
