"""`firstmark init` (the first admin) and `firstmark keys …` (API keys)."""

from __future__ import annotations

import argparse
import secrets
import sys

from firstmark.cli.common import Commands, group
from firstmark.config import Settings
from firstmark.domain.audit import CLI_ACTOR
from firstmark.domain.keys import SCOPES, parse_scopes
from firstmark.domain.passwords import hash_password
from firstmark.services import audit
from firstmark.services import keys as keys_service
from firstmark.store import Store


async def cmd_init(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    if await store.count_users() > 0:
        print(
            "firstmark: already initialised; create more keys with `firstmark keys create`",
            file=sys.stderr,
        )
        return 1
    password = args.password or secrets.token_urlsafe(12)
    await store.insert_user(args.username, hash_password(password), "owner")
    shown, made = await keys_service.create(store, ("admin",), "init")
    await audit.record(store, CLI_ACTOR, "create", "user", args.username)
    await audit.record(store, CLI_ACTOR, "create", "key", made.prefix)
    print(f"Created the admin user {args.username!r}.", file=sys.stderr)
    if not args.password:
        print(f"Dashboard password: {password}", file=sys.stderr)
    print("Admin API key (shown once, keep it safe):", file=sys.stderr)
    print(shown)
    return 0


async def cmd_keys_create(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    shown, made = await keys_service.create(store, parse_scopes(args.scope), args.name)
    await audit.record(store, CLI_ACTOR, "create", "key", made.prefix)
    print(shown)
    return 0


async def cmd_keys_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    for key in await keys_service.visible_to(store, None):
        state = "revoked" if key.revoked else "active"
        used = key.last_used_at.isoformat() if key.last_used_at else "never"
        print(
            f"fm_{key.prefix}_…  {state:8}  {' '.join(key.scopes):40}  last used {used}  {key.name}"
        )
    return 0


async def cmd_keys_revoke(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    prefix = keys_service.bare_prefix(args.prefix)
    if not await keys_service.revoke(store, prefix):
        print(f"firstmark: no API key with prefix {prefix!r}", file=sys.stderr)
        return 1
    await audit.record(store, CLI_ACTOR, "revoke", "key", prefix)
    print(f"revoked fm_{prefix}_…")
    return 0


def register(sub: Commands) -> None:
    init = sub.add_parser("init", help="create the admin user and print an admin API key")
    init.add_argument("--username", default="admin")
    init.add_argument("--password", help="dashboard password (default: generated and printed)")
    init.set_defaults(run=cmd_init)

    keys = group(sub, "keys", "API keys")
    create = keys.add_parser("create", help="print a new key (and nothing else)")
    create.add_argument(
        "--scope", action="append", required=True,
        help=f"one of {', '.join(SCOPES)}; repeatable, or comma-separated",
    )  # fmt: skip
    create.add_argument("--name", default="", help="a note to tell keys apart")
    create.set_defaults(run=cmd_keys_create)
    keys.add_parser("list", help="list keys (never their secrets)").set_defaults(run=cmd_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key by its prefix")
    revoke.add_argument("prefix")
    revoke.set_defaults(run=cmd_keys_revoke)
