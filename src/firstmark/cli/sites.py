"""`firstmark site …`: websites that send events, and the script tag each one gets."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from firstmark.cli.common import Commands, group, print_json
from firstmark.config import Settings
from firstmark.domain import sites
from firstmark.services import sites as sites_service
from firstmark.store import Store


async def cmd_site_add(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    body: dict[str, Any] = {"hosts": args.host}
    if args.name:
        body["name"] = args.name
    saved = await sites_service.create(store, body)
    data = sites.to_json(saved, settings.base_url)
    if args.json:
        print_json(data)
    else:
        print(f"site key: {saved.key}", file=sys.stderr)
        print(data["snippet"])
    return 0


async def cmd_site_hosts(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    found = [s for s in await store.list_sites() if args.site in (str(s.id), s.key)]
    if not found or found[0].id is None:
        print(f"firstmark: no site with id or key {args.site!r}", file=sys.stderr)
        return 1
    saved = await sites_service.set_hosts(store, found[0].id, args.host)
    print(f"{saved.key}: {', '.join(saved.hosts)}")
    return 0


async def cmd_site_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    for site in await store.list_sites():
        print(f"{site.id:>4}  {site.key}  {site.name:30}  {', '.join(site.hosts)}")
    return 0


def register(sub: Commands) -> None:
    site = group(sub, "site", "websites that send events")
    sadd = site.add_parser("add", help="register a site; prints its <script> tag")
    sadd.add_argument("--host", action="append", required=True, help="repeat for every host")
    sadd.add_argument("--name", help="default: the first host")
    sadd.add_argument("--json", action="store_true")
    sadd.set_defaults(run=cmd_site_add)
    site.add_parser("list", help="list sites and their keys").set_defaults(run=cmd_site_list)
    shosts = site.add_parser("hosts", help="replace the hosts of a site (by id or key)")
    shosts.add_argument("site")
    shosts.add_argument("--host", action="append", required=True, help="repeat for every host")
    shosts.set_defaults(run=cmd_site_hosts)
