"""Driving the dashboard over HTTP in tests: a browser-like client, the login, and reading
CSRF tokens and field errors off a page."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from conftest import BASE_URL

PASSWORD = "correct horse battery"
CLIENT = ("203.0.113.7", 50000)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


def error_for(page: str, field: str) -> str | None:
    """The error text tied to a field, checking the field points at it."""
    found = re.search(rf'<p class="error" id="err-{field}">(.*?)</p>', page)
    if found is None:
        return None
    field_tag = re.search(rf'<(?:input|select|textarea)[^>]*id="f-{field}"[^>]*>', page)
    assert field_tag is not None, f"no field f-{field}"
    assert f"err-{field}" in field_tag.group(0) and 'aria-invalid="true"' in field_tag.group(0)
    return html.unescape(found.group(1))


async def make_client(
    app: Any, client: tuple[str, int] = CLIENT, base_url: str = BASE_URL
) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url=base_url)


async def log_in(http: httpx.AsyncClient, username: str = "admin") -> httpx.Response:
    form = await http.get("/dashboard/login")
    return await http.post(
        "/dashboard/login",
        data={"csrf": csrf_of(form.text), "username": username, "password": PASSWORD},
    )
