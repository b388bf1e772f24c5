"""`firstmark user password` as an operator uses it: prompted or scripted, sessions end."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from clitools import env, run

from firstmark.domain.passwords import check_password
from firstmark.store import create_store

__all__ = ["env"]  # the fixture, imported for the tests below


async def _state(path: Path) -> tuple[str, int]:
    """The admin's password hash, and how many sessions the admin has."""
    store = create_store(f"sqlite:///{path}")
    await store.open()
    try:
        user = await store.user_by_name("admin")
        assert user is not None
        alive = await store.delete_user_sessions(user.id)
        return user.password_hash, alive
    finally:
        await store.close()


async def _session(path: Path) -> None:
    store = create_store(f"sqlite:///{path}")
    await store.open()
    try:
        user = await store.user_by_name("admin")
        assert user is not None
        await store.insert_session("k1", user.id, 1.0, 2e10)
    finally:
        await store.close()


def test_user_password_scripted(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", "--password", "first password")[0] == 0
    asyncio.run(_session(env / "firstmark.db"))
    code, out, err = run(capsys, "user", "password", "admin", "--password", "second password")
    assert code == 0, err
    assert "every session" in out and "second password" not in out + err
    hashed, alive = asyncio.run(_state(env / "firstmark.db"))
    assert check_password("second password", hashed) and alive == 0


def test_user_password_prompted(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "init", "--password", "first password")[0] == 0
    typed = iter(["typed at the terminal", "typed at the terminal"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert run(capsys, "user", "password", "admin")[0] == 0
    hashed, _ = asyncio.run(_state(env / "firstmark.db"))
    assert check_password("typed at the terminal", hashed)
    typed = iter(["one long password", "another password"])
    code, _, err = run(capsys, "user", "password", "admin")
    assert code == 1 and "differ" in err
    hashed, _ = asyncio.run(_state(env / "firstmark.db"))
    assert check_password("typed at the terminal", hashed)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody", "--password", "long enough pw"), "no user 'nobody'"),
        (("admin", "--password", "short"), "at least 10 characters"),
    ],
)
def test_user_password_refused(
    env: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    assert run(capsys, "init", "--password", "first password")[0] == 0
    code, _, err = run(capsys, "user", "password", *args)
    assert code == 1 and message in err
    hashed, _ = asyncio.run(_state(env / "firstmark.db"))
    assert check_password("first password", hashed)


async def _keys_of(path: Path, username: str) -> list[bool]:
    """Whether each API key of the user is revoked (as the API would read it)."""
    store = create_store(f"sqlite:///{path}")
    await store.open()
    try:
        user = await store.user_by_name(username)
        if user is None:
            return [k.revoked for k in await store.list_api_keys() if k.user_id is not None]
        return [k.revoked for k in await store.list_api_keys(user.id)]
    finally:
        await store.close()


async def _give_key(path: Path, username: str) -> None:
    from firstmark.services import users as users_service

    store = create_store(f"sqlite:///{path}")
    await store.open()
    try:
        await users_service.create_key(
            store, await users_service.find(store, username), ("reports:read",), "k"
        )
    finally:
        await store.close()


def test_users_with_roles_from_the_cli(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", "--password", "first password")[0] == 0
    code, out, err = run(capsys, "user", "add", "ada", "--role", "analyst")
    assert code == 0 and "Created the analyst 'ada'" in err
    assert out.startswith("Dashboard password: ") and len(out.split(": ")[1].strip()) >= 12
    code, _, err = run(capsys, "user", "add", "bob", "--role", "editor", "--password", "pw 1234567")
    assert code == 0, err
    assert run(capsys, "user", "list")[1].split() == [
        "ada", "analyst", "active", "admin", "owner", "active", "bob", "editor", "active",
    ]  # fmt: skip
    assert run(capsys, "user", "role", "ada", "admin")[0] == 0
    asyncio.run(_give_key(env / "firstmark.db", "bob"))
    code, out, _ = run(capsys, "user", "disable", "bob")
    assert code == 0 and "API keys stopped" in out
    assert asyncio.run(_keys_of(env / "firstmark.db", "bob")) == [True]
    assert (
        "bob       " in run(capsys, "user", "list")[1]
        and "disabled" in run(capsys, "user", "list")[1]
    )
    assert run(capsys, "user", "enable", "bob")[0] == 0
    assert asyncio.run(_keys_of(env / "firstmark.db", "bob")) == [False]
    assert run(capsys, "user", "remove", "bob")[0] == 0
    assert "bob" not in run(capsys, "user", "list")[1]
    assert asyncio.run(_keys_of(env / "firstmark.db", "bob")) == [True]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "ada", "--role", "boss"), "the role must be one of viewer, analyst"),
        (("add", "a b", "--role", "viewer"), "a username is 1-64 letters"),
        (("add", "admin", "--role", "viewer"), "exists already"),
        (("role", "admin", "editor"), "the last enabled owner"),
        (("disable", "admin"), "the last enabled owner"),
        (("remove", "admin"), "the last enabled owner"),
        (("role", "nobody", "editor"), "no user 'nobody'"),
    ],
)
def test_user_commands_refuse_clearly(
    env: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    assert run(capsys, "init", "--password", "first password")[0] == 0
    code, _, err = run(capsys, "user", *args)
    assert code != 0 and message in err, err
    assert run(capsys, "user", "list")[1].split() == ["admin", "owner", "active"]


def test_user_invite_prints_a_one_time_link(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", "--password", "first password")[0] == 0
    code, out, err = run(capsys, "user", "invite", "--role", "editor")
    assert code == 0 and "join as editor" in err
    assert out.strip().startswith("https://fm.example/dashboard/join/")
