"""`POST /e` and `GET /fm.js`: a raw ASGI handler in front of the router, like the redirect.

An event costs the response path: read at most 8 KB, parse and check the JSON, one site lookup
(cached), one deque append, 202. The script is served from memory, gzipped when the client
accepts it (`Script`). Errors are the same JSON as the API's; the input is never echoed.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from firstmark.config import Settings
from firstmark.domain import consent as consent_rules
from firstmark.domain import events, privacymode
from firstmark.domain.events import RawEvent
from firstmark.domain.lru import LRU
from firstmark.domain.schema import check_json
from firstmark.domain.sites import KEY_PATTERN, Site
from firstmark.errors import BodyTooLarge, FirstmarkError, Forbidden, InvalidBody, RateLimited
from firstmark.ingest.events import EventWriter
from firstmark.store import Store
from firstmark.web.clientip import ClientIP
from firstmark.web.ratelimit import RateLimiter
from firstmark.web.script import Script

UNKNOWN_TTL_S = 5.0
SITE_ENTRIES = 10_000  # public keys remembered, unknown ones included
SITE_BYTES = 8 * 2**20


def _site_weight(key: str, entry: tuple[Site | None, float]) -> int:
    return 2 * len(key) + (1000 if entry[0] is not None else 0)


class SiteCache:
    """Sites by public key, from memory; unknown keys are remembered briefly too."""

    def __init__(self, store: Store, ttl: float) -> None:
        self.store = store
        self.ttl = max(ttl, 0.5)
        self._sites: LRU[str, tuple[Site | None, float]] = LRU(
            SITE_ENTRIES, SITE_BYTES, _site_weight
        )

    async def get(self, key: str) -> Site | None:
        now = time.monotonic()
        found = self._sites.get(key)
        if found is not None and found[1] > now:
            return found[0]
        site = await self.store.site_by_key(key)
        self._sites.put(key, (site, now + (self.ttl if site else min(self.ttl, UNKNOWN_TTL_S))))
        return site

    def invalidate(self, key: str | None = None) -> None:
        if key is None:
            self._sites.clear()
        else:
            self._sites.pop(key)


def _origin_host(origin: str) -> str | None:
    if not origin or origin == "null":
        return None
    try:
        return (urlsplit(origin).hostname or "").lower()
    except ValueError:
        return ""


class CollectApp:
    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        writer: EventWriter,
        sites: SiteCache,
    ) -> None:
        self.app = app
        self.writer = writer
        self.sites = sites
        self.token_param = settings.click_token_param
        self.honour_dnt = settings.honour_dnt
        self.exempt = settings.privacy_mode == "exempt"
        self.client_ip = ClientIP(settings.trusted_proxies)
        self.limiter = (
            RateLimiter(settings.event_rate_limit, settings.event_rate_burst)
            if settings.event_rate_limit > 0
            else None
        )
        self.script = Script("fm.js")
        self.accepted = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, method = scope["path"], scope["method"]
            if path == "/e":
                if method == "POST":
                    await self.ingest(scope, receive, send)
                    return
                if method == "OPTIONS":
                    await self.preflight(scope, send)
                    return
            elif path == "/fm.js" and method in ("GET", "HEAD"):
                await self.script.serve(scope, send)
                return
        await self.app(scope, receive, send)

    async def ingest(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = ua = ""
        forwarded_for: str | None = None
        gpc = False
        length = -1
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"user-agent":
                ua = value.decode("latin-1")
            elif name == b"sec-gpc":
                gpc = gpc or value.strip() == b"1"
            elif name == b"dnt":
                gpc = gpc or ((self.honour_dnt or self.exempt) and value.strip() == b"1")
            elif name == b"content-length" and value.isdigit():
                length = int(value)
            elif name == b"x-forwarded-for":
                forwarded_for = value.decode("latin-1")
        client = scope.get("client")
        ip = client[0] if client else ""
        if forwarded_for:
            ip = self.client_ip.resolve(ip, forwarded_for)
        allow = cors(origin)
        try:
            if self.limiter is not None and not self.limiter.allow(ip):
                wait = str(self.limiter.retry_after(ip)).encode()
                limited = RateLimited("too many events from your network; slow down")
                await json_reply(send, 429, limited.to_json(), [*allow, (b"retry-after", wait)])
                return
            body = await _read(receive, length)
            try:
                data = json.loads(body)
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise InvalidBody("the body is not valid JSON") from None
            check_json(data)  # NUL, invalid text, huge numbers: refused here, never queued
            given = events.parse(data, token_param=self.token_param)
            site = (
                await self.sites.get(given.site_key)
                if KEY_PATTERN.fullmatch(given.site_key)
                else None
            )
            if site is None:
                raise Forbidden("unknown site key", field="site", code="unknown_site")
            from_host = _origin_host(origin)
            if (from_host is not None and not site.allows(from_host)) or not site.allows(
                given.host
            ):
                raise Forbidden(
                    "this host is not registered for the site", field="url", code="unknown_host"
                )
            agreed = consent_rules.from_page(given.consent, tcf=given.tcf, gpc=given.gpc or gpc)
        except FirstmarkError as exc:
            await json_reply(send, exc.status, exc.to_json(), allow)
            return
        assert site.id is not None
        # Exempt mode: an opted-out visitor is not measured at all (the page cannot tell), the
        # others without any grant.
        opted_out = self.exempt and agreed.gpc
        if self.exempt:
            agreed = privacymode.exempt_consent(agreed)
        if not opted_out:
            raw = RawEvent(given, site.id, agreed, time.time(), ip, ua)
            if not self.writer.offer(raw):
                await self.writer.put(raw)
            self.accepted += 1
        await send(
            {
                "type": "http.response.start",
                "status": 202,
                "headers": [(b"content-length", b"0"), *allow],
            }
        )
        await send(_EMPTY)

    async def preflight(self, scope: Scope, send: Send) -> None:
        origin = ""
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
        headers = [
            *cors(origin),
            (b"access-control-allow-methods", b"POST"),
            (b"access-control-allow-headers", b"content-type"),
            (b"access-control-max-age", b"86400"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send(_EMPTY)


_EMPTY: Message = {"type": "http.response.body", "body": b""}


def cors(origin: str) -> list[tuple[bytes, bytes]]:
    """The page may read our answer (no cookies are involved: credentials are never allowed)."""
    if not origin or origin == "null":
        return []
    return [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"origin")]


async def _read(receive: Receive, declared: int) -> bytes:
    limit = events.BODY_LIMIT
    if declared > limit:
        raise BodyTooLarge(f"an event is at most {limit // 1024} KB")
    body: bytes = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > limit:
            raise BodyTooLarge(f"an event is at most {limit // 1024} KB")
        if not message.get("more_body"):
            break
    if not body.strip():
        raise InvalidBody("the body is empty; send a JSON object")
    return body


async def json_reply(send: Send, status: int, data: Any, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps(data).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
