"""`POST /e` and `GET /fm.js`: a raw ASGI handler in front of the router, like the redirect.

An event costs the response path: read at most 8 KB, parse and check the JSON, one site lookup
(cached), one deque append, 202. The script is served from memory, gzipped when the client
accepts it (`Script`). Errors are the same JSON as the API's; the input is never echoed.

`quick` gives the whole HTTP response to an event whose body came complete with its head, for
the HTTP protocol to write without an ASGI request (web/fastpath.py, like a warm click); the
ASGI path and it share every check (`_head`, `_given`, `_checked`), so they answer alike.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from firstmark.config import Settings
from firstmark.domain import consent as consent_rules
from firstmark.domain import events, privacymode
from firstmark.domain.consent import Consent
from firstmark.domain.events import EventInput, RawEvent
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
MISSING = object()  # `SiteCache.peek`: not in memory (or expired); ask the store
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

    def peek(self, key: str) -> Site | object | None:
        """The site from memory (None: known to be unknown), or MISSING."""
        found = self._sites.get(key)
        if found is not None and found[1] > time.monotonic():
            return found[0]
        return MISSING

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


class Head(NamedTuple):
    """What `POST /e` reads of a request's head."""

    origin: str
    ua: str
    gpc: bool  # Sec-GPC, or DNT where it is honoured
    length: int  # Content-Length, -1 when absent
    ip: str  # the client, through trusted proxies


class DeferredEvent(NamedTuple):
    """An event that found the buffer full: the event to `put`, then the response to send."""

    raw: RawEvent
    response: bytes


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

    def _head(self, headers: Sequence[tuple[bytes, bytes]], client: tuple[str, int] | None) -> Head:
        origin = ua = ""
        forwarded_for: str | None = None
        gpc = False
        length = -1
        for name, value in headers:
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
        ip = client[0] if client else ""
        if forwarded_for:
            ip = self.client_ip.resolve(ip, forwarded_for)
        return Head(origin, ua, gpc, length, ip)

    def _limited(self, ip: str) -> tuple[RateLimited, bytes] | None:
        """The 429 and its Retry-After when the client's network has no token left."""
        if self.limiter is None or self.limiter.allow(ip):
            return None
        wait = str(self.limiter.retry_after(ip)).encode()
        return RateLimited("too many events from your network; slow down"), wait

    def _given(self, body: bytes) -> EventInput:
        """The checked event of a body (at most BODY_LIMIT bytes)."""
        if not body.strip():
            raise InvalidBody("the body is empty; send a JSON object")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise InvalidBody("the body is not valid JSON") from None
        check_json(data)  # NUL, invalid text, huge numbers: refused here, never queued
        return events.parse(data, token_param=self.token_param)

    def _checked(self, head: Head, given: EventInput, site: Site | None) -> RawEvent | None:
        """The event to queue, or None when it is not measured at all (exempt mode, opted
        out); raises when its site or host is not ours."""
        if site is None:
            raise Forbidden("unknown site key", field="site", code="unknown_site")
        from_host = _origin_host(head.origin)
        if (from_host is not None and not site.allows(from_host)) or not site.allows(given.host):
            raise Forbidden(
                "this host is not registered for the site", field="url", code="unknown_host"
            )
        agreed = consent_rules.from_page(given.consent, tcf=given.tcf, gpc=given.gpc or head.gpc)
        assert site.id is not None
        # Exempt mode: an opted-out visitor is not measured at all (the page cannot tell), the
        # others without any grant.
        if self.exempt:
            if agreed.gpc:
                return None
            agreed = privacymode.exempt_consent(agreed)
        return self._raw(given, site.id, agreed, head)

    def _raw(self, given: EventInput, site_id: int, agreed: Consent, head: Head) -> RawEvent:
        return RawEvent(given, site_id, agreed, time.time(), head.ip, head.ua)

    async def ingest(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = self._head(scope["headers"], scope.get("client"))
        allow = cors(head.origin)
        limited = self._limited(head.ip)
        if limited is not None:
            problem, wait = limited
            await json_reply(send, 429, problem.to_json(), [*allow, (b"retry-after", wait)])
            return
        try:
            given = self._given(await _read(receive, head.length))
            site = (
                await self.sites.get(given.site_key)
                if KEY_PATTERN.fullmatch(given.site_key)
                else None
            )
            raw = self._checked(head, given, site)
        except FirstmarkError as exc:
            await json_reply(send, exc.status, exc.to_json(), allow)
            return
        if raw is not None:
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

    def quick(
        self,
        headers: Sequence[tuple[bytes, bytes]],
        client: tuple[str, int] | None,
        body: bytes,
        default_headers: bytes,
        keep_alive: bool,
    ) -> bytes | DeferredEvent | None:
        """The whole HTTP/1.1 response to `POST /e` whose `body` is all of it, or None when
        the request needs the ASGI path (a site not in memory, a length that does not match).
        Same checks, same answers as `ingest`; a full buffer gives a `DeferredEvent`."""
        head = self._head(headers, client)
        if head.length != len(body) or head.length > events.BODY_LIMIT:
            return None
        problem: FirstmarkError | None = None
        given = site = None
        try:
            given = self._given(body)
        except FirstmarkError as exc:
            problem = exc
        if given is not None and KEY_PATTERN.fullmatch(given.site_key):
            site = self.sites.peek(given.site_key)
            if site is MISSING:
                return None  # nothing is counted or taken yet: the ASGI path reads the store
        allow = cors(head.origin)
        limited = self._limited(head.ip)  # first, as `ingest` answers it before the body
        if limited is not None:
            problem, wait = limited
            return _reply(429, problem.to_json(), [*allow, (b"retry-after", wait)],
                          default_headers, keep_alive)  # fmt: skip
        try:
            if problem is not None:
                raise problem
            assert given is not None and (site is None or isinstance(site, Site))
            raw = self._checked(head, given, site)
        except FirstmarkError as exc:
            return _reply(exc.status, exc.to_json(), allow, default_headers, keep_alive)
        response = _reply(202, None, allow, default_headers, keep_alive)
        if raw is None:
            return response
        self.accepted += 1
        if not self.writer.offer(raw):
            return DeferredEvent(raw, response)
        return response

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


_STATUS = {status: b"HTTP/1.1 %d %s\r\n" % (status, HTTPStatus(status).phrase.encode())
           for status in (202, 400, 403, 413, 422, 429)}  # fmt: skip
_ACCEPTED_TAIL = b"content-length: 0\r\n"
_CLOSE = b"connection: close\r\n"


def _reply(
    status: int,
    data: Any,
    extra: list[tuple[bytes, bytes]],
    default_headers: bytes,
    keep_alive: bool,
) -> bytes:
    """A whole response as uvicorn would write `json_reply`'s (or the 202's) messages."""
    if data is None:
        body = b""
        head = _ACCEPTED_TAIL
    else:
        body = json.dumps(data).encode()
        head = b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body)
    line = _STATUS.get(status) or b"HTTP/1.1 %d %s\r\n" % (
        status, HTTPStatus(status).phrase.encode()
    )  # fmt: skip
    return b"".join(
        (
            line,
            default_headers,
            head,
            *(b"%s: %s\r\n" % pair for pair in extra),
            b"\r\n" if keep_alive else _CLOSE + b"\r\n",
            body,
        )
    )


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
