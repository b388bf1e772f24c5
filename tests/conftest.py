"""Fixtures: a migrated store in a temp folder, the app over it, and an authorised client."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.domain.keys import SCOPES, new_key
from firstmark.store import Store, create_store

BASE_URL = "http://fm.test"
PG_URL = os.environ.get("FIRSTMARK_TEST_POSTGRES_URL", "")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path}/firstmark.db",
        secret_key="test-secret",
        secret_key_file=str(tmp_path / "firstmark.secret"),
        base_url=BASE_URL,
    )


def engines() -> list[Any]:
    """The store engines to run the contract against; a skipped one says why."""
    marks = [] if PG_URL else [pytest.mark.skip(reason="FIRSTMARK_TEST_POSTGRES_URL is not set")]
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=marks),
    ]


@contextlib.asynccontextmanager
async def pg_schema() -> AsyncIterator[str]:
    """A fresh, empty schema in the test database, dropped afterwards: the URL to use it."""
    import asyncpg

    name = f"fm_pg_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f"CREATE SCHEMA {name}")
        sep = "&" if "?" in PG_URL else "?"
        yield f"{PG_URL}{sep}search_path={name}"
    finally:
        await admin.execute(f"DROP SCHEMA {name} CASCADE")
        await admin.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A scratch PostgreSQL schema (skips without FIRSTMARK_TEST_POSTGRES_URL)."""
    if not PG_URL:
        pytest.skip("FIRSTMARK_TEST_POSTGRES_URL is not set")
    async with pg_schema() as url:
        yield url


async def _opened(url: str) -> AsyncIterator[Store]:
    opened = create_store(url)
    await opened.open()
    await opened.migrate()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    """The embedded SQLite store, migrated, in a temp folder."""
    async for opened in _opened(settings.database_url):
        yield opened


@pytest.fixture(params=engines())
async def any_store(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Store]:
    """Each engine in turn, for the store contract suite; PostgreSQL on a fresh schema."""
    if request.param == "sqlite":
        async for opened in _opened(settings.database_url):
            yield opened
        return
    async with pg_schema() as url:
        async for opened in _opened(url):
            yield opened


@pytest.fixture
async def app(settings: Settings, store: Store) -> AsyncIterator[Any]:
    application = create_app(settings, store)
    application.state.runtime.writer.start()
    application.state.runtime.event_writer.start()
    try:
        yield application
    finally:
        await application.state.runtime.writer.stop()
        await application.state.runtime.event_writer.stop()


@pytest.fixture
async def make_key(store: Store) -> Callable[..., Any]:
    async def make(*scopes: str) -> str:
        shown, key = new_key(tuple(scopes or SCOPES[:4]))
        await store.insert_api_key(key)
        return shown

    return make


@pytest.fixture
async def client(app: Any, make_key: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    key = await make_key("admin")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers={"authorization": f"Bearer {key}"}
    ) as http:
        yield http


@pytest.fixture
async def anon(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A visitor: no API key."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.fixture
async def provider(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A voice provider calling the webhooks through a proxy: the Host it reaches is not the
    public one."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 443))
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8000") as http:
        yield http


@pytest.fixture
async def dash(app: Any, store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """A browser logged in to the dashboard as a new admin."""
    # dashtools imports this module (BASE_URL): imported here, once both are loaded.
    from dashtools import PASSWORD, log_in, make_client
    from firstmark.domain.passwords import hash_password

    await store.insert_user("admin", hash_password(PASSWORD), "owner")
    async with await make_client(app) as http:
        assert (await log_in(http)).status_code == 303
        yield http
