"""`firstmark user …`: dashboard users and their roles (domain/roles.py). `user add NAME --role
ROLE` creates one (the password generated and printed unless given), `user list` lists them,
`user role NAME ROLE` changes a role, `user disable|enable|remove NAME`, `user invite --role ROLE`
prints a one-time link to join, and `user password USERNAME` sets a new password (prompted twice,
or `--password P` for scripts). Disabling, removing and a new password end every session of the
user. The CLI acts as the machine's operator: it may do anything, except leave no enabled owner."""

from __future__ import annotations

import argparse
import getpass
import sys

from firstmark.cli.common import Commands, group
from firstmark.config import Settings
from firstmark.domain.audit import CLI_ACTOR
from firstmark.domain.invitations import INVITATION_DAYS, invitation_url
from firstmark.domain.passwords import MIN_LENGTH, check_new
from firstmark.domain.roles import ROLES
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


async def cmd_user_add(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    user, generated = await users_service.add(store, args.username, args.role, args.password)
    await audit.record(store, CLI_ACTOR, "create", "user", user.username)
    print(f"Created the {user.role} {user.username!r}.", file=sys.stderr)
    if generated is not None:
        print(f"Dashboard password: {generated}")
    return 0


async def cmd_user_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    for user in await store.list_users():
        state = "disabled" if user.disabled else "active"
        print(f"{user.username:24}  {user.role:8}  {state}")
    return 0


async def cmd_user_role(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    user = await users_service.set_role(
        store, await users_service.find(store, args.username), args.role
    )
    await audit.record(store, CLI_ACTOR, f"role:{user.role}", "user", user.username)
    print(f"{user.username!r} is now {user.role}; their API keys follow the role.")
    return 0


async def _standing(args: argparse.Namespace, store: Store, disabled: bool) -> int:
    user = await users_service.find(store, args.username)
    await users_service.set_disabled(store, user, disabled)
    await audit.record(store, CLI_ACTOR, "disable" if disabled else "enable", "user", user.username)
    if disabled:
        print(f"Disabled {user.username!r}: signed out everywhere, API keys stopped.")
    else:
        print(f"Enabled {user.username!r} again.")
    return 0


async def cmd_user_disable(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    return await _standing(args, store, True)


async def cmd_user_enable(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    return await _standing(args, store, False)


async def cmd_user_remove(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    user = await users_service.find(store, args.username)
    await users_service.remove(store, user)
    await audit.record(store, CLI_ACTOR, "delete", "user", user.username)
    print(f"Removed {user.username!r}; their API keys are revoked.")
    return 0


async def cmd_user_invite(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    token, made = await users_service.invite(store, args.role, actor=CLI_ACTOR)
    await audit.record(store, CLI_ACTOR, "invite", "user", made.role)
    print(f"A one-time link to join as {made.role}, valid {INVITATION_DAYS} days:", file=sys.stderr)
    print(invitation_url(settings.base_url, token))
    return 0


def register(sub: Commands) -> None:
    users = group(sub, "user", "dashboard users and their roles")
    role_help = f"one of {', '.join(ROLES)}"
    add = users.add_parser("add", help="create a user with a role (the password is printed)")
    add.add_argument("username")
    add.add_argument("--role", required=True, help=role_help)
    add.add_argument("--password", help="the password, for scripts (default: generated, printed)")
    add.set_defaults(run=cmd_user_add)
    users.add_parser("list", help="list users, their roles and standing").set_defaults(
        run=cmd_user_list
    )
    role = users.add_parser("role", help="give a user another role (their keys follow)")
    role.add_argument("username")
    role.add_argument("role", help=role_help)
    role.set_defaults(run=cmd_user_role)
    for name, run, text in (
        ("disable", cmd_user_disable, "stop a user: signed out everywhere, keys stopped"),
        ("enable", cmd_user_enable, "let a disabled user sign in again"),
        ("remove", cmd_user_remove, "remove a user (their keys are revoked)"),
    ):
        command = users.add_parser(name, help=text)
        command.add_argument("username")
        command.set_defaults(run=run)
    invite = users.add_parser("invite", help="print a one-time link to join with a role")
    invite.add_argument("--role", required=True, help=role_help)
    invite.set_defaults(run=cmd_user_invite)
    password = users.add_parser(
        "password", help="set a user's password (prompted) and sign the user out everywhere"
    )
    password.add_argument("username")
    password.add_argument(
        "--password", help="the new password, for scripts (default: asked twice, not echoed)"
    )
    password.set_defaults(run=cmd_user_password)
