"""`firstmark link …`: create, update, show, archive and list short links, and promote an
A/B variant."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from firstmark.cli.common import Commands, bool_flag, group, print_json
from firstmark.config import Settings
from firstmark.domain import links
from firstmark.domain.audit import CLI_ACTOR
from firstmark.domain.dimensions import LINK_FILTERS
from firstmark.domain.utm import UTM_FIELDS
from firstmark.domain.variants import variant_spec
from firstmark.errors import InvalidField
from firstmark.services import audit
from firstmark.services import links as links_service
from firstmark.services import qr as qr_service
from firstmark.store import LinkQuery, Store


def _link_body(args: argparse.Namespace) -> dict[str, Any]:
    """CLI options as the same flat JSON keys the API takes, so one validator serves both."""
    body: dict[str, Any] = {}
    for name in ("destination", "code", "domain", *UTM_FIELDS, "campaign", "placement", "kind"):
        value = getattr(args, name, None)
        if value is not None:
            body[name] = value
    for name in ("valid_from", "expires_at", "fallback_url", "password"):
        value = getattr(args, name, None)
        if value is not None:
            body[name] = None if value == "" else value
    if args.tag is not None:
        body["tags"] = args.tag
    if args.redirect_status is not None:
        body["redirect_status"] = args.redirect_status
    if args.max_hits is not None:
        body["max_hits"] = None if args.max_hits == 0 else args.max_hits
    for name in ("forward_query", "click_token", "noindex"):
        value = getattr(args, name, None)
        if value is not None:
            body[name] = value
    if args.rules is not None:
        try:
            body["rules"] = json.loads(args.rules)
        except ValueError as exc:
            raise InvalidField("rules", f"--rules must be JSON: {exc}") from None
    if args.variant:
        body["variants"] = [variant_spec(text) for text in args.variant]
        body.setdefault("destination", body["variants"][0]["url"])
    elif getattr(args, "no_variants", False):
        body["variants"] = []
    return body


def _show_link(
    link: links.Link, settings: Settings, as_json: bool, warnings: Sequence[Any] = ()
) -> None:
    data = links.to_json(link, settings.base_url)
    for warning in warnings:
        print(f"warning: {warning.field}: {warning.message}", file=sys.stderr)
    if as_json:
        print_json({**data, "warnings": [w.to_json() for w in warnings]})
        return
    print(data["short_url"])


async def cmd_link_create(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    prepared = await links_service.create_link(
        store, links_service.policy(settings), _link_body(args)
    )
    await audit.record(store, CLI_ACTOR, "create", "link", prepared.link.id)
    _show_link(prepared.link, settings, args.json, prepared.warnings)
    return 0


async def cmd_link_update(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    link = await links_service.find_link(store, args.link)
    assert link.id is not None
    prepared = await links_service.update_link(
        store, links_service.policy(settings), link.id, _link_body(args)
    )
    await qr_service.follow_parent(store, prepared.link)
    await audit.record(store, CLI_ACTOR, "update", "link", link.id, audit.fields(_link_body(args)))
    _show_link(prepared.link, settings, args.json, prepared.warnings)
    return 0


async def cmd_link_promote(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    link = await links_service.find_link(store, args.link)
    assert link.id is not None
    _, saved = await links_service.promote_variant(store, link.id, args.variant)
    await qr_service.follow_parent(store, saved)
    await audit.record(store, CLI_ACTOR, "promote", "link", link.id, {"variant": args.variant})
    print(f"{links.short_url(saved, settings.base_url)} → {saved.destination}")
    return 0


async def cmd_link_show(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    link = await links_service.find_link(store, args.link)
    data = links.to_json(link, settings.base_url)
    if args.json:
        print_json(data)
        return 0
    width = max(len(k) for k in data)
    for key, value in data.items():
        if value not in (None, [], ""):
            print(f"{key:<{width}}  {value}")
    return 0


async def cmd_link_archive(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    link = await links_service.find_link(store, args.link)
    assert link.id is not None
    await qr_service.follow_parent(store, await links_service.archive_link(store, link.id))
    await audit.record(store, CLI_ACTOR, "archive", "link", link.id)
    print(f"archived {links.short_url(link, settings.base_url)}")
    return 0


async def cmd_link_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    filters = {name: getattr(args, name) for name in LINK_FILTERS if getattr(args, name, None)}
    found, total = await store.list_links(
        LinkQuery(
            filters=filters,
            search=args.search,
            archived=None if args.all else False,
            limit=args.limit,
            offset=(args.page - 1) * args.limit,
        )
    )
    if args.json:
        print_json(
            {"items": [links.to_json(link, settings.base_url) for link in found], "total": total}
        )
        return 0
    for link in found:
        flag = " (archived)" if link.archived else ""
        print(
            f"{link.id:>6}  {links.short_url(link, settings.base_url):40}  {link.destination}{flag}"
        )
    print(f"{len(found)} of {total} links", file=sys.stderr)
    return 0


def _link_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--code", help="custom short code (default: 7 random characters)")
    parser.add_argument("--domain", help="serve on this host instead of BASE_URL's")
    for name in UTM_FIELDS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="VALUE")
    parser.add_argument("--campaign")
    parser.add_argument("--placement", help="where a printed code hangs, e.g. poster-oslo-s")
    parser.add_argument("--kind", choices=["link", "qr"])
    parser.add_argument("--tag", action="append", help="repeat for several tags")
    parser.add_argument("--redirect-status", type=int, choices=[301, 302, 307, 308])
    parser.add_argument("--valid-from", metavar="ISO", help="'' clears it")
    parser.add_argument("--expires-at", metavar="ISO", help="'' clears it")
    parser.add_argument("--fallback-url", metavar="URL", help="'' clears it")
    parser.add_argument("--max-hits", type=int, metavar="N", help="0 clears it")
    parser.add_argument("--password", help="'' removes it")
    parser.add_argument(
        "--rules", metavar="JSON", help='e.g. \'[{"device": "mobile", "destination": "…"}]\''
    )
    parser.add_argument(
        "--variant",
        action="append",
        metavar="URL=WEIGHT",
        help="an A/B destination; repeat 2 to 5 times, the first is the control",
    )
    bool_flag(parser, "forward-query", "pass the visitor's query on", "do not (default)")
    bool_flag(parser, "click-token", "append the signed fm_click token (default)", "do not")
    bool_flag(parser, "noindex", "send X-Robots-Tag: noindex (default)", "let crawlers index")
    parser.add_argument("--json", action="store_true", help="print the whole link as JSON")


def register(sub: Commands) -> None:
    link = group(sub, "link", "short links")
    create = link.add_parser("create", help="create a link and print its short URL")
    create.add_argument("destination")
    _link_options(create)
    create.set_defaults(run=cmd_link_create)
    update = link.add_parser("update", help="change a link (by id or code)")
    update.add_argument("link")
    update.add_argument("--destination")
    update.add_argument("--no-variants", action="store_true", help="end the A/B split")
    _link_options(update)
    update.set_defaults(run=cmd_link_update)
    promote = link.add_parser(
        "promote", help="make an A/B variant the destination and end the split"
    )
    promote.add_argument("link")
    promote.add_argument("variant", type=int, help="its number: 0 is the control")
    promote.set_defaults(run=cmd_link_promote)
    show = link.add_parser("show", help="show a link (by id or code)")
    show.add_argument("link")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=cmd_link_show)
    archive = link.add_parser("archive", help="retire a link: it answers 410 (or its fallback)")
    archive.add_argument("link")
    archive.set_defaults(run=cmd_link_archive)
    listing = link.add_parser("list", help="list links, newest first")
    for name in LINK_FILTERS:
        listing.add_argument(f"--{name.replace('_', '-')}", dest=name)
    listing.add_argument("--search", help="part of the code or destination")
    listing.add_argument("--all", action="store_true", help="include archived links")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--page", type=int, default=1)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_link_list)
