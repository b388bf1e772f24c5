"""Registering sites and their hosts: what the API, the dashboard and `firstmark site` do."""

from __future__ import annotations

from datetime import UTC, datetime

from firstmark.domain import sites
from firstmark.domain.sites import Site
from firstmark.domain.times import now
from firstmark.errors import NotFound
from firstmark.store import Store


async def create(store: Store, data: object) -> Site:
    """A site read from user input (name, hosts) and stored with a new public key."""
    return await store.insert_site(sites.new_site(data, now()))


async def set_hosts(store: Store, site_id: int, hosts: object) -> Site:
    """Replace a site's hosts; each host belongs to one site (`Conflict` otherwise)."""
    return await store.set_site_hosts(site_id, sites.parse_hosts(hosts))


async def get(store: Store, site_id: int) -> Site:
    found = next((s for s in await store.list_sites() if s.id == site_id), None)
    if found is None:
        raise NotFound(f"no site with id {site_id}")
    return found


async def last_event(store: Store, site_id: int) -> datetime | None:
    """When the site's latest event arrived; None while it has sent none (the snippet is not on
    its pages yet, or its host is not one of the site's)."""
    latest = await store.list_events(site_id, limit=1)
    return datetime.fromtimestamp(latest[0].ts, UTC) if latest else None
