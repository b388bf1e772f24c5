"""The `firstmark destination` and `firstmark outbox` commands."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Sequence
from typing import Any

from firstmark.cli.common import Commands, group, print_json
from firstmark.config import Settings
from firstmark.domain.audit import CLI_ACTOR
from firstmark.errors import InvalidField
from firstmark.services import audit
from firstmark.store import Store


def _pairs(items: Sequence[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidField(what, f"--{what} takes KEY=VALUE, not {item!r}")
        out[key.strip()] = value
    return out


def _option_value(raw: str) -> Any:
    """Option values as JSON where they parse (true, 3), else text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _forwarder(settings: Settings, store: Store, client: Any) -> Any:
    from firstmark.forward.tokens import TokenProvider, oauth_urls
    from firstmark.forward.worker import Forwarder
    from firstmark.sealing import Sealer

    return Forwarder(
        store,
        client,
        credentials=Sealer(settings.secret_key, "destination-credentials"),
        client_data=Sealer(settings.secret_key, "outbox-client"),
        batch=settings.forward_batch,
        lease_s=settings.forward_lease_s,
        max_attempts=settings.forward_max_attempts,
        backoff_s=settings.forward_backoff_s,
        request_timeout_s=settings.forward_timeout_s,
        tokens=TokenProvider(client, oauth_urls(settings)),
    )


def _webhook_sender(settings: Settings, store: Store, client: Any) -> Any:
    """Webhook messages ride the same worker process (forward/webhooks.py)."""
    from firstmark.forward.webhooks import WebhookSender
    from firstmark.sealing import Sealer

    return WebhookSender(
        store,
        client,
        Sealer(settings.secret_key, "webhook-secrets"),
        lease_s=settings.forward_lease_s,
        max_attempts=settings.forward_max_attempts,
        backoff_s=settings.forward_backoff_s,
        request_timeout_s=settings.forward_timeout_s,
    )


def _credentials_sealer(settings: Settings) -> Any:
    from firstmark.sealing import Sealer

    return Sealer(settings.secret_key, "destination-credentials")


async def cmd_destination_add(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from firstmark.domain import destinations
    from firstmark.services import destinations as destinations_service

    credentials = _pairs(args.credential, "credential")
    if args.credentials_file:
        text = sys.stdin.read() if args.credentials_file == "-" else _read(args.credentials_file)
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise InvalidField("credentials", f"--credentials-file is not JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise InvalidField("credentials", "--credentials-file must hold a JSON object")
        credentials = {**loaded, **credentials}
    if args.service_account_key:
        credentials["service_account_key"] = _read(args.service_account_key)
    body: dict[str, Any] = {
        "platform": args.platform,
        "name": args.name or args.platform,
        "credentials": credentials,
        "goals": _pairs(args.goal, "goal"),
        "test_mode": args.test_mode,
        "options": {k: _option_value(v) for k, v in _pairs(args.option, "option").items()},
        "enabled": not args.disabled,
    }
    if args.endpoint_base:
        body["endpoint_base"] = args.endpoint_base
    saved = await destinations_service.create(
        store, _credentials_sealer(settings), body,
        allow_private=settings.destination_allow_private,
    )  # fmt: skip
    await audit.record(store, CLI_ACTOR, "create", "destination", saved.id)
    if args.json:
        print_json(destinations.to_json(saved))
    else:
        print(f"destination {saved.id}: {saved.name} ({saved.platform})")
    return 0


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise InvalidField("credentials", f"cannot read {path}: {exc.strerror}") from None


async def cmd_destination_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from firstmark.domain import destinations

    found = await store.list_destinations()
    if args.json:
        print_json(
            {"items": [destinations.to_json(d, await store.outbox_counts(d.id)) for d in found]}
        )
        return 0
    for dest in found:
        counts = await store.outbox_counts(dest.id)
        state = "enabled" if dest.enabled else "disabled"
        test = " test-mode" if dest.test_mode else ""
        if dest.auth_status != "ok":
            test += f" NEEDS RE-AUTHORISATION ({dest.auth_error})"
        goals = ", ".join(f"{g}→{e}" for g, e in dest.goals.items()) or "no goals mapped"
        print(
            f"{dest.id:>4}  {dest.name:24}  {dest.platform:10}  {state}{test}  {goals}  "
            f"pending {counts['pending'] + counts['retry']}, dead {counts['dead']}"
        )
    return 0


async def cmd_destination_enable(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from firstmark.services import destinations as destinations_service

    dest = await destinations_service.find(store, args.destination)
    saved = await destinations_service.update(
        store, _credentials_sealer(settings), dest, {"enabled": args.enable}
    )
    await audit.record(store, CLI_ACTOR, "enable" if saved.enabled else "disable", "destination",
                       saved.id)  # fmt: skip
    print(f"{saved.name}: {'enabled' if saved.enabled else 'disabled'}")
    return 0


async def cmd_destination_connect(
    args: argparse.Namespace, settings: Settings, store: Store
) -> int:
    """Paste a refresh token (Google, LinkedIn): stored sealed, waiting conversions resume."""
    from firstmark.services import destinations as destinations_service

    if args.refresh_token_file:
        token = (
            sys.stdin.read() if args.refresh_token_file == "-" else _read(args.refresh_token_file)
        )
    elif args.refresh_token:
        token = args.refresh_token
    else:
        raise InvalidField("refresh_token", "give --refresh-token-file FILE ('-': stdin)")
    dest = await destinations_service.find(store, args.destination)
    saved = await destinations_service.connect(store, _credentials_sealer(settings), dest, token)
    await audit.record(store, CLI_ACTOR, "connect", "destination", saved.id)
    print(f"{saved.name}: connected ({saved.auth_status})")
    return 0


async def cmd_destination_test(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from firstmark.forward.probe import probe
    from firstmark.services import destinations as destinations_service
    from firstmark.services.outbound import guarded_client

    dest = await destinations_service.find(store, args.destination)
    async with guarded_client(
        settings.forward_timeout_s, allow_private=settings.destination_allow_private
    ) as client:
        result = await probe(_forwarder(settings, store, client), dest, live=args.live)
    if result.http_status is None:
        print(f"test event not sent: {dest.name} was not reached ({result.outcome.message})")
        return 1
    mode = "in the platform's test mode" if result.test_mode else "(no test mode: a real event)"
    print(f"test event {result.event_id} to {dest.name} {mode}")
    print(f"HTTP {result.http_status}: {result.outcome.status}")
    if result.outcome.message:
        print(result.outcome.message)
    if result.answer:
        print(result.answer)
    return 0 if result.outcome.ok else 1


async def cmd_outbox_status(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    rows = []
    for dest in await store.list_destinations():
        rows.append((dest, await store.outbox_counts(dest.id)))
    if args.json:
        print_json(
            {
                "destinations": [
                    {"id": d.id, "name": d.name, "platform": d.platform, "outbox": c}
                    for d, c in rows
                ],
                "total": await store.outbox_counts(),
            }
        )
        return 0
    print(f"{'id':>4}  {'destination':24}  pending  sending  retry     sent  dead")
    for dest, c in rows:
        print(
            f"{dest.id:>4}  {dest.name:24}  {c['pending']:>7}  {c['sending']:>7}  "
            f"{c['retry']:>5}  {c['sent']:>7}  {c['dead']:>4}"
        )
    return 0


async def cmd_outbox_replay(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from firstmark.services import destinations as destinations_service

    dest_id = None
    if args.destination:
        dest_id = (await destinations_service.find(store, args.destination)).id
    replayed = await store.replay_outbox(dest_id, args.id or None)
    print(f"{replayed} dead rows queued again")
    return 0


async def cmd_outbox_run(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    """The worker on its own: until Ctrl-C or SIGTERM (or, with --once, until nothing is due)."""
    from firstmark.logs import configure
    from firstmark.services.outbound import guarded_client

    configure(settings.log_level, settings.outbound_log_level)
    async with (
        guarded_client(
            settings.forward_timeout_s, allow_private=settings.destination_allow_private
        ) as client,
        guarded_client(
            settings.forward_timeout_s, allow_private=settings.webhook_allow_private
        ) as hook_client,
    ):
        forwarder = _forwarder(settings, store, client)
        hooks = _webhook_sender(settings, store, hook_client)
        if args.once:
            claimed = await forwarder.drain()
            c = forwarder.counters
            print(f"{claimed} rows: {c.sent} sent, {c.retried} to retry, {c.dead} dead")
            if sent := await hooks.drain():
                print(f"{sent} webhook messages")
            return 0
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        forwarder.start(settings.forward_poll_s)
        hooks.start(settings.forward_poll_s)
        print(f"outbox worker {forwarder.worker} running", file=sys.stderr)
        await stopping.wait()
        await forwarder.stop()
        await hooks.stop()
    return 0


def register(sub: Commands) -> None:
    dest = group(sub, "destination", "ad platforms conversions go to")
    dadd = dest.add_parser("add", help="connect an ad platform")
    dadd.add_argument(
        "platform",
        choices=["meta", "google_ads", "ga4", "tiktok", "linkedin", "microsoft", "pinterest",
                 "snapchat", "reddit"],
    )  # fmt: skip
    dadd.add_argument("--name", help="default: the platform")
    dadd.add_argument(
        "--credential", action="append", metavar="KEY=VALUE",
        help="a credential field (repeatable); prefer --credentials-file to keep secrets out "
        "of the shell history",
    )  # fmt: skip
    dadd.add_argument(
        "--credentials-file", metavar="FILE", help="JSON object of credentials ('-': stdin)"
    )
    dadd.add_argument(
        "--service-account-key", metavar="FILE",
        help="google_ads: the JSON key file of a service account (access tokens are minted "
        "from it)",
    )  # fmt: skip
    dadd.add_argument("--goal", action="append", metavar="GOAL=EVENT", help="map a goal")
    dadd.add_argument("--option", action="append", metavar="KEY=VALUE")
    dadd.add_argument("--endpoint-base", metavar="URL", help="override the platform's URL")
    dadd.add_argument("--test-mode", action="store_true", help="use the platform's test mode")
    dadd.add_argument("--disabled", action="store_true", help="add it switched off")
    dadd.add_argument("--json", action="store_true")
    dadd.set_defaults(run=cmd_destination_add)
    dlist = dest.add_parser("list", help="list destinations (never their credentials)")
    dlist.add_argument("--json", action="store_true")
    dlist.set_defaults(run=cmd_destination_list)
    dtest = dest.add_parser("test", help="send one test event and print the answer")
    dtest.add_argument("destination", help="id or name")
    dtest.add_argument(
        "--live", action="store_true",
        help="platforms without a test mode (LinkedIn, Microsoft, Snapchat): send a real event",
    )  # fmt: skip
    dtest.set_defaults(run=cmd_destination_test)
    dconnect = dest.add_parser(
        "connect", help="store a Google or LinkedIn refresh token (connect, or re-authorise)"
    )
    dconnect.add_argument("destination", help="id or name")
    dconnect.add_argument(
        "--refresh-token-file", metavar="FILE", help="a file holding the token ('-': stdin)"
    )
    dconnect.add_argument(
        "--refresh-token", metavar="TOKEN", help="the token itself (stays in shell history)"
    )
    dconnect.set_defaults(run=cmd_destination_connect)
    ddisable = dest.add_parser("disable", help="stop forwarding to a destination")
    ddisable.add_argument("destination", help="id or name")
    ddisable.set_defaults(run=cmd_destination_enable, enable=False)
    denable = dest.add_parser("enable", help="forward to a destination again")
    denable.add_argument("destination", help="id or name")
    denable.set_defaults(run=cmd_destination_enable, enable=True)

    box = group(sub, "outbox", "the forwarding outbox")
    bstatus = box.add_parser("status", help="rows per state and destination")
    bstatus.add_argument("--json", action="store_true")
    bstatus.set_defaults(run=cmd_outbox_status)
    breplay = box.add_parser("replay", help="queue dead rows again (after a fix)")
    breplay.add_argument("--destination", help="id or name (default: all)")
    breplay.add_argument("--id", type=int, action="append", help="an outbox row (repeatable)")
    breplay.set_defaults(run=cmd_outbox_replay)
    brun = box.add_parser("run", help="run the outbox worker on its own")
    brun.add_argument("--once", action="store_true", help="deliver what is due, then exit")
    brun.set_defaults(run=cmd_outbox_run)
