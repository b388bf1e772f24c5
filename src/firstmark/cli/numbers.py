"""The `firstmark number` and `firstmark calls` commands."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from firstmark.cli.common import Commands, group, print_json
from firstmark.config import Settings
from firstmark.domain import calls, numbers
from firstmark.domain.phones import display
from firstmark.services import numbers as numbers_service
from firstmark.store import CallQuery, Store


def _body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": args.number,
        "provider": args.provider,
        "forward_to": args.forward_to,
    }
    optional = {
        "region": args.region,
        "label": args.label,
        "pool": args.pool,
        "link_id": args.link,
        "campaign": args.campaign,
        "qualify_seconds": args.qualify,
        "fallback_to": args.fallback_to,
        "hours": args.hours,
        "timezone": args.timezone,
        "goal": args.goal,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if args.record:
        body["record"] = True
    return body


def _line(number: numbers.TrackingNumber) -> str:
    bound = (
        f"pool {number.pool}"
        if number.pool
        else f"link {number.link_id}"
        if number.link_id
        else f"campaign {number.campaign}"
        if number.campaign
        else "static"
    )
    gone = "  released" if number.released_at is not None else ""
    return (
        f"{number.id:>4}  {display(number.e164):18}  {number.provider:7}  → "
        f"{display(number.forward_to):18}  {bound:24}  {number.label}{gone}"
    )


async def cmd_number_add(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    saved = await numbers_service.register(store, _body(args), time.time())
    if args.json:
        print_json(numbers.to_json(saved))
    else:
        print(_line(saved))
    return 0


async def cmd_number_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    found = await store.list_numbers(released=args.released)
    if args.json:
        print_json({"items": [numbers.to_json(n) for n in found]})
        return 0
    for number in found:
        print(_line(number))
    if not found:
        print("no tracking numbers yet: firstmark number add --help", file=sys.stderr)
    return 0


async def cmd_number_release(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    released = await numbers_service.release(store, args.number, time.time())
    print(f"released {display(released.e164)}; its calls stay in the log")
    return 0


async def cmd_number_pool(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    body: dict[str, Any] = {"lease_minutes": args.lease_minutes}
    if args.fallback:
        body["fallback"] = args.fallback
    if args.region:
        body["region"] = args.region
    if args.site:
        body["site"] = args.site
    saved = await numbers_service.set_pool(store, args.name, body, time.time())
    for pool, count, leased in await store.list_pools(time.time()):
        if pool.name == saved.name:
            if args.json:
                print_json(numbers.pool_to_json(pool, count, leased))
            else:
                fallback = display(pool.fallback) if pool.fallback else "-"
                print(f"pool {pool.name}: {count} numbers, {leased} leased, fallback {fallback}")
    return 0


async def cmd_calls(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    found, total = await store.list_calls(CallQuery(status=args.status, limit=args.limit))
    by_id = {n.id: n for n in await store.list_numbers(released=True)}
    items = [calls.to_json(c, by_id.get(c.number_id)) for c in found]
    if args.json:
        print_json({"items": items, "total": total})
        return 0
    for item in items:
        print(
            f"{item['started']}  {item['number'] or '-':14}  {item['status']:9}  "
            f"{item['duration_seconds'] or 0:>5} s  {item['caller'] or '-':5}  "
            f"{item['channel']:8}  {item['campaign'] or '-'}"
            + ("  qualified" if item["qualified"] else "")
        )
    return 0


def register(sub: Commands) -> None:
    number = group(sub, "number", "call-tracking numbers")
    add = number.add_parser("add", help="register a tracking number")
    add.add_argument("number", help="the tracking number, E.164 like +14155550123")
    add.add_argument("--provider", required=True, choices=numbers.PROVIDERS)
    add.add_argument("--forward-to", required=True, help="the business line calls ring")
    add.add_argument("--region", help="default country for national formats, like GB")
    add.add_argument("--label", help="where it is printed: 'Oslo stand', 'Spring poster'")
    add.add_argument("--pool", help="put it in a DNI pool for web pages")
    add.add_argument("--link", type=int, help="bind it to a link (or QR placement) id")
    add.add_argument("--campaign", help="bind it to a campaign name")
    add.add_argument("--qualify", type=int, help="seconds of talk that make a conversion (60)")
    add.add_argument("--record", action="store_true", help="record calls (a notice is played)")
    add.add_argument("--fallback-to", help="where calls go outside business hours")
    add.add_argument("--hours", help="business hours, like 'mon-fri 09:00-17:00'")
    add.add_argument("--timezone", help="the hours' time zone, like Europe/Oslo (UTC)")
    add.add_argument("--goal", help="the goal a qualified call reaches (call)")
    add.add_argument("--json", action="store_true")
    add.set_defaults(run=cmd_number_add)
    listing = number.add_parser("list", help="list tracking numbers")
    listing.add_argument("--released", action="store_true", help="include released numbers")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_number_list)
    release = number.add_parser("release", help="stop tracking a number (by id or number)")
    release.add_argument("number")
    release.set_defaults(run=cmd_number_release)
    pool = number.add_parser("pool", help="create or change a DNI pool")
    pool.add_argument("name")
    pool.add_argument("--fallback", help="shown when every number of the pool is leased")
    pool.add_argument("--region", help="default country for a national fallback number")
    pool.add_argument("--site", help="the site (key or id) whose pages use this pool")
    pool.add_argument("--lease-minutes", type=int, default=30)
    pool.add_argument("--json", action="store_true")
    pool.set_defaults(run=cmd_number_pool)

    log = sub.add_parser("calls", help="the calls log, newest first")
    log.add_argument("--status", help="ringing, answered, completed, ... or qualified")
    log.add_argument("--limit", type=int, default=50)
    log.add_argument("--json", action="store_true")
    log.set_defaults(run=cmd_calls)
