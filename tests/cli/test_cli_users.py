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
