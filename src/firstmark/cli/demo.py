"""`firstmark demo`: fill a fresh database with 90 days of demo data, and give a dashboard login
to look at it with."""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from datetime import UTC, datetime

from firstmark.cli.common import Commands
from firstmark.config import Settings
from firstmark.domain import phones
from firstmark.domain.audit import CLI_ACTOR
from firstmark.domain.passwords import hash_password
from firstmark.services import audit
from firstmark.store import Store

DEMO_USER = "admin"


async def cmd_demo(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from firstmark.services.demo import seed

    if await store.count_links() and not args.force:
        print(
            "firstmark: the database already has links; the demo fills a fresh one "
            "(point FIRSTMARK_DATABASE_URL at a new file, or pass --force)",
            file=sys.stderr,
        )
        return 1
    now = datetime.now(UTC)
    began = time.perf_counter()
    summary = await seed(
        store, now.date(), phones.hash_key(settings.secret_key), now=now.timestamp()
    )
    print(f"{summary} (written in {time.perf_counter() - began:.1f} s)")
    print(await _login(settings, store))
    return 0


async def _login(settings: Settings, store: Store) -> str:
    """The line that says how to open the dashboard: a new admin with a generated password on
    a database without users, else the command that sets an existing user's password."""
    where = f"{settings.base_url.rstrip('/')}/dashboard"
    if await store.count_users():
        return (
            f"Dashboard: {where} (log in as your user; "
            f"`firstmark user password {DEMO_USER}` sets a new password)"
        )
    password = secrets.token_urlsafe(12)
    await store.insert_user(DEMO_USER, hash_password(password), "owner")
    await audit.record(store, CLI_ACTOR, "create", "user", DEMO_USER)
    return f"Dashboard: {where} (user {DEMO_USER}, password {password})"


def register(sub: Commands) -> None:
    demo = sub.add_parser(
        "demo", help="fill a fresh database with 90 days of demo data and a login"
    )
    demo.add_argument("--force", action="store_true", help="even if the database has links")
    demo.set_defaults(run=cmd_demo)
