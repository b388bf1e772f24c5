"""`firstmark domain …`: the hosts short links are served on, and where their unknown codes go."""

from __future__ import annotations

import argparse

from firstmark.cli.common import Commands, group
from firstmark.config import Settings
from firstmark.domain import links
from firstmark.domain.urls import validate_destination
from firstmark.errors import InvalidField
from firstmark.store import Domain, Store


async def cmd_domain_set(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    host = links.normalise_host(args.host, "host")
    if not host:
        raise InvalidField("host", "give a host name like go.example.com")
    fallback = (
        validate_destination(args.fallback_url, "fallback_url") if args.fallback_url else None
    )
    await store.upsert_domain(Domain(host, fallback))
    print(f"{host}: unknown codes {'go to ' + fallback if fallback else 'show the 404 page'}")
    return 0


async def cmd_domain_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    for domain in await store.list_domains():
        print(f"{domain.host:40}  {domain.fallback_url or '-'}")
    return 0


def register(sub: Commands) -> None:
    domain = group(sub, "domain", "short-link domains")
    dset = domain.add_parser("set", help="register a host and where its unknown codes go")
    dset.add_argument("host")
    dset.add_argument("--fallback-url", help="redirect unknown codes here instead of a 404 page")
    dset.set_defaults(run=cmd_domain_set)
    domain.add_parser("list", help="list registered hosts").set_defaults(run=cmd_domain_list)
