"""The `firstmark webhook` commands: add, list, rotate, remove."""

from __future__ import annotations

import argparse
from typing import Any

from firstmark.cli.common import Commands, group, print_json
from firstmark.config import Settings
from firstmark.domain import webhooks
from firstmark.domain.audit import CLI_ACTOR
from firstmark.errors import InvalidField
from firstmark.sealing import Sealer
from firstmark.services import audit
from firstmark.services import webhooks as service
from firstmark.store import Store


def _sealer(settings: Settings) -> Sealer:
    return Sealer(settings.secret_key, "webhook-secrets")


def _id(raw: str) -> int:
    if not raw.isdigit():
        raise InvalidField("webhook", f"a webhook is named by its id, not {raw!r}")
    return int(raw)


async def cmd_webhook_add(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    events = [e.strip() for item in args.event for e in item.split(",") if e.strip()]
    body: dict[str, Any] = {"url": args.url, "events": events, "click_mode": args.click_mode}
    if args.sample_every is not None:
        body["sample_every"] = args.sample_every
    if args.description:
        body["description"] = args.description
    saved, secret = await service.create(
        store, _sealer(settings), body, allow_private=settings.webhook_allow_private
    )
    await audit.record(store, CLI_ACTOR, "create", "webhook", saved.id)
    if args.json:
        print_json(webhooks.to_json(saved, secret=secret))
    else:
        print(f"webhook {saved.id} → {saved.url} ({', '.join(saved.events)})")
        print(f"secret {secret}  (shown once: keep it to verify signatures)")
    return 0


async def cmd_webhook_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    found = await store.list_webhooks()
    if args.json:
        print_json({"items": [webhooks.to_json(ep) for ep in found]})
        return 0
    for ep in found:
        state = "on " if ep.enabled else "off"
        print(f"{ep.id:>4}  {state}  {ep.url}  {', '.join(ep.events)}")
    return 0


async def cmd_webhook_rotate(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    current = await service.found(store, _id(args.webhook))
    saved, secret = await service.rotate(
        store, _sealer(settings), current, overlap_s=args.overlap_hours * 3600
    )
    await audit.record(store, CLI_ACTOR, "rotate", "webhook", saved.id)
    if args.json:
        print_json(webhooks.to_json(saved, secret=secret))
    else:
        until = webhooks.to_json(saved)["previous_secret_valid_until"]
        print(f"secret {secret}  (shown once)")
        print(f"the previous secret signs too until {until}" if until else "no overlap")
    return 0


async def cmd_webhook_remove(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    ep = await service.found(store, _id(args.webhook))
    await service.remove(store, ep)
    await audit.record(store, CLI_ACTOR, "delete", "webhook", ep.id)
    print(f"webhook {ep.id} removed")
    return 0


def register(sub: Commands) -> None:
    hook = group(sub, "webhook", "endpoints that receive signed events")
    add = hook.add_parser("add", help="add an endpoint; prints its secret once")
    add.add_argument("url")
    add.add_argument(
        "--event", action="append", required=True, metavar="TYPE",
        help=f"an event type, repeatable or comma separated: {', '.join(webhooks.EVENTS)}",
    )  # fmt: skip
    add.add_argument("--click-mode", choices=webhooks.CLICK_MODES, default="aggregate")
    add.add_argument("--sample-every", type=int, help="in sample mode: send one click in N")
    add.add_argument("--description")
    add.add_argument("--json", action="store_true")
    add.set_defaults(run=cmd_webhook_add)
    listing = hook.add_parser("list", help="list endpoints (never their secrets)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_webhook_list)
    rotate = hook.add_parser("rotate", help="a new secret; the old one overlaps")
    rotate.add_argument("webhook", help="id")
    rotate.add_argument(
        "--overlap-hours", type=float, default=webhooks.ROTATION_OVERLAP_S / 3600,
        help="how long the previous secret still signs (default 24)",
    )  # fmt: skip
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(run=cmd_webhook_rotate)
    remove = hook.add_parser("remove", help="remove an endpoint and its queue")
    remove.add_argument("webhook", help="id")
    remove.set_defaults(run=cmd_webhook_remove)
