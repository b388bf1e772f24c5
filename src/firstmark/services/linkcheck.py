"""Link health checks: request each active link's target URL and store what came back.

HEAD first (cheap), GET when HEAD is refused or fails; redirects are followed hop by hop so
every hop's address is checked. The client comes from `client()`: its transport resolves each
host once, refuses private and loopback addresses (unless FIRSTMARK_HEALTHCHECK_ALLOW_PRIVATE is
set) and connects to the address it checked, so a name cannot pass the check and then resolve
somewhere else (services/outbound.py). The client is injected (tests pass one bound to a
loopback server).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from firstmark.domain import schedules
from firstmark.domain.linkcheck import Health, is_ok
from firstmark.domain.links import Link
from firstmark.services import outbound
from firstmark.store import LinkQuery, Store

log = logging.getLogger("firstmark.health")
MAX_HOPS = 5
CONCURRENCY = 5
PAGE = 500
USER_AGENT = "firstmark-healthcheck/1 (+destination check for printed QR codes)"


class Refused(Exception):
    pass


def _guard(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("not an http(s) URL")


async def _request(client: httpx.AsyncClient, method: str, url: str) -> httpx.Response:
    async with client.stream(
        method, url, follow_redirects=False, headers={"user-agent": USER_AGENT}
    ) as response:
        return response  # the body is never read


async def check_url(
    client: httpx.AsyncClient, url: str
) -> tuple[bool, int | None, str | None, str | None]:
    """(ok, final status, error, final URL) for one destination."""
    current = url
    try:
        for _ in range(MAX_HOPS + 1):
            _guard(current)
            response = await _request(client, "HEAD", current)
            if response.status_code >= 400 and not is_ok(response.status_code):
                response = await _request(client, "GET", current)
            location = response.headers.get("location")
            if response.is_redirect and location:
                current = urljoin(current, location)
                continue
            status = response.status_code
            if is_ok(status):
                return True, status, None, current
            return False, status, f"HTTP {status}", current
        return False, None, f"more than {MAX_HOPS} redirects", current
    except Refused as exc:
        return False, None, str(exc), current
    except httpx.TimeoutException:
        return False, None, "timed out", current
    except httpx.HTTPError as exc:
        refused = outbound.refusal(exc)
        if refused is not None:
            return False, None, refused, current
        return False, None, f"{type(exc).__name__}: {str(exc)[:200]}", current


async def active_links(store: Store) -> list[Link]:
    out: list[Link] = []
    offset = 0
    while True:
        page, total = await store.list_links(
            LinkQuery(filters={}, archived=False, limit=PAGE, offset=offset)
        )
        out.extend(page)
        offset += PAGE
        if offset >= total or not page:
            return out


async def check_links(
    store: Store,
    client: httpx.AsyncClient,
    links: Sequence[Link],
    progress: Callable[[int, int], None] | None = None,
) -> list[Health]:
    """Check each distinct destination once and record the result for every link using it;
    `progress(destinations checked, destinations)` after each."""
    by_destination: dict[str, list[int]] = {}
    now = datetime.now(UTC)
    for link in links:
        if link.id is not None:
            # An event schedule decides where the printed code leads right now.
            schedule = await store.schedule_for_link(link.id)
            url = schedules.current_url(link, schedule, now)
            by_destination.setdefault(url, []).append(link.id)
    gate = asyncio.Semaphore(CONCURRENCY)
    checked = 0

    async def one(destination: str) -> list[Health]:
        nonlocal checked
        async with gate:
            ok, status, error, final = await check_url(client, destination)
        checked += 1
        if progress is not None:
            progress(checked, len(by_destination))
        now = datetime.now(UTC).replace(microsecond=0)
        return [
            Health(link_id, destination, now, ok, status, error, final)
            for link_id in by_destination[destination]
        ]

    results = [h for batch in await asyncio.gather(*map(one, by_destination)) for h in batch]
    if results:
        await store.record_health(results)
    return results


def client(timeout: float, *, allow_private: bool = False) -> httpx.AsyncClient:
    """The client health checks use: every connection checked and pinned."""
    return outbound.guarded_client(timeout, allow_private=allow_private)


async def run_forever(
    store: Store, *, interval: float, timeout: float, allow_private: bool
) -> None:
    """The background loop of `firstmark serve`: a round every `interval` seconds."""
    while True:
        await asyncio.sleep(interval)
        try:
            async with client(timeout, allow_private=allow_private) as http:
                found = await check_links(store, http, await active_links(store))
            failing = sum(1 for h in found if not h.ok)
            log.info("destination health: %d checked, %d failing", len(found), failing)
        except Exception:
            log.exception("destination health check failed")
