"""`firstmark user …`: dashboard users. `user password USERNAME` sets a new password (prompted
twice, or `--password P` for scripts) and ends every session of the user."""

from __future__ import annotations

import argparse
import getpass
import sys

from firstmark.cli.common import Commands, group
from firstmark.config import Settings
from firstmark.domain.audit import CLI_ACTOR
from firstmark.domain.passwords import MIN_LENGTH, check_new
from firstmark.services import audit
from firstmark.services import users as users_service
from firstmark.store import Store


def _ask() -> str | None:
    """The new password typed twice at the terminal; None when the two differ."""
    first = getpass.getpass(f"New password for the dashboard (at least {MIN_LENGTH} characters): ")
    check_new(first)
    second = getpass.getpass("The same password again: ")
    return first if first == second else None


async def cmd_user_password(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    user = await users_service.find(store, args.username)
    password = args.password
    if password is None:
        password = _ask()
        if password is None:
            print("firstmark: the two passwords differ; nothing changed", file=sys.stderr)
            return 1
    await users_service.set_password(store, user, password)
    await audit.record(store, CLI_ACTOR, "password", "user", user.username)
    print(f"Changed the password of {user.username!r}; every session of it is signed out.")
    return 0


def register(sub: Commands) -> None:
    users = group(sub, "user", "dashboard users")
    password = users.add_parser(
        "password", help="set a user's password (prompted) and sign the user out everywhere"
    )
    password.add_argument("username")
    password.add_argument(
        "--password", help="the new password, for scripts (default: asked twice, not echoed)"
    )
    password.set_defaults(run=cmd_user_password)
