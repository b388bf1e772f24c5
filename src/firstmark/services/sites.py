"""Registering sites and their hosts: what the API and `firstmark site` both do."""

from __future__ import annotations

from firstmark.domain import sites
from firstmark.domain.sites import Site
from firstmark.domain.times import now
from firstmark.store import Store


async def create(store: Store, data: object) -> Site:
    """A site read from user input (name, hosts) and stored with a new public key."""
    return await store.insert_site(sites.new_site(data, now()))


async def set_hosts(store: Store, site_id: int, hosts: object) -> Site:
    """Replace a site's hosts; each host belongs to one site (`Conflict` otherwise)."""
    return await store.set_site_hosts(site_id, sites.parse_hosts(hosts))
