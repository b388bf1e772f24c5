"""The redirect hot path: a raw ASGI handler in front of the Starlette router.

`GET /{code}` (a click) and `GET /q/{code}` (a scan) are answered here without building a
Request or Response object. A warm click is: match the path, read four headers, one dict
lookup, a few comparisons, one token signature, one deque append, two ASGI messages. Anything
else falls through to the router.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import parse_qs, parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from firstmark.config import Settings
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.devices import bot_reason, classify
from firstmark.domain.hits import RawHit
from firstmark.domain.links import RESERVED_CODES
from firstmark.domain.passwords import check_password
from firstmark.domain.redirects import (
    Outcome,
    Target,
    choose,
    forwardable,
    location,
    outcome,
    split,
)
from firstmark.domain.rules import Visit, parse_languages
from firstmark.domain.urls import append_param
from firstmark.domain.visitors import day_of, visitor_day_hash
from firstmark.errors import StoreUnavailable
from firstmark.geo import GeoLookup
from firstmark.ingest.hits import HitWriter
from firstmark.services.workers import Workers
from firstmark.web.clientip import ClientIP
from firstmark.web.headers import MESSAGES, head_problem
from firstmark.web.linkcache import MISSING, LinkCache
from firstmark.web.pages import Pages
from firstmark.web.throttle import link_throttle

CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
FORM_LIMIT = 4096


_EMPTY_BODY: Message = {"type": "http.response.body", "body": b""}
_NOINDEX = (b"x-robots-tag", b"noindex")
# Every click must reach us (no caching), and destinations see only our origin as referrer.
_NO_STORE = (
    (b"cache-control", b"private, no-store"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)
_HEADERS = ((b"content-length", b"0"), *_NO_STORE)
# The public pages (404, 410, the password form, 503) get the dashboard's protections: no
# script at all, no framing, no type sniffing.
_PAGE_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        b"base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
)
SHOWN_HOST = 64  # characters of the Host header a 404 page repeats, at most
_HEADERS_NOINDEX = (*_HEADERS, _NOINDEX)


_STATUS_LINES = {
    301: b"HTTP/1.1 301 Moved Permanently\r\n",
    302: b"HTTP/1.1 302 Found\r\n",
    307: b"HTTP/1.1 307 Temporary Redirect\r\n",
    308: b"HTTP/1.1 308 Permanent Redirect\r\n",
}
_TAIL = b"".join(b"%s: %s\r\n" % pair for pair in _HEADERS)
_TAIL_NOINDEX = b"".join(b"%s: %s\r\n" % pair for pair in _HEADERS_NOINDEX)
_CLOSE = b"connection: close\r\n"


def target_headers(target: Target) -> tuple[tuple[bytes, bytes], ...]:
    return _HEADERS_NOINDEX if target.link.noindex else _HEADERS


def _bare_host(host: str) -> str:
    """'Go.Example.com:8080' → 'go.example.com'; IPv6 literals keep their brackets."""
    if ":" in host and not host.endswith("]"):
        host = host.rsplit(":", 1)[0]
    return host.lower()


def _host_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"host":
            return _bare_host(value.decode("latin-1"))
    return ""


def read_headers(
    headers: Sequence[tuple[bytes, bytes]],
) -> tuple[str, str, str, str, str | None]:
    """(bare host, user agent, referer, accept-language, x-forwarded-for): all a click reads."""
    host = ua = referer = lang = ""
    forwarded_for: str | None = None
    for name, value in headers:
        if name == b"host":
            host = value.decode("latin-1")
        elif name == b"user-agent":
            ua = value.decode("latin-1")
        elif name == b"referer":
            referer = value.decode("latin-1")
        elif name == b"accept-language":
            lang = value.decode("latin-1")
        elif name == b"x-forwarded-for":
            forwarded_for = value.decode("latin-1")
    return _bare_host(host), ua, referer, lang, forwarded_for


def match(path: str) -> tuple[str, str] | None:
    """('code', 'click') for /code, ('code', 'scan') for /q/code, else None."""
    rest = path[1:]
    kind = "click"
    if rest.startswith("q/"):
        rest = rest[2:]
        kind = "scan"
    if "/" in rest or not CODE.fullmatch(rest):
        return None
    if kind == "click" and rest.lower() in RESERVED_CODES:
        return None
    return rest, kind


class Deferred(NamedTuple):
    """A warm click that found the hit buffer full: its hit, then its response."""

    raw: RawHit
    response: bytes


class RedirectApp:
    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        cache: LinkCache,
        writer: HitWriter,
        geo: GeoLookup,
        pages: Pages,
        workers: Workers,
    ) -> None:
        self.app = app
        self.workers = workers
        self.settings = settings
        self.cache = cache
        self.writer = writer
        self.geo = geo
        self.pages = pages
        self.signer = ClickSigner(settings.secret_key)
        self.token_param = settings.click_token_param
        # Exempt mode: no click token links a click to the visit it leads to.
        self.tokens = settings.click_tokens and settings.privacy_mode != "exempt"
        self.client_ip = ClientIP(settings.trusted_proxies)
        self.guesses = link_throttle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = head_problem(len(scope.get("raw_path") or b"") + 16, scope["headers"])
        if problem is not None:
            await refuse(send, problem)
            return
        if scope["method"] in ("GET", "HEAD", "POST"):
            found = match(scope["path"])
            if found is not None:
                await self.redirect(scope, receive, send, found[0], found[1])
                return
        if (
            scope["path"] == "/"
            and scope["method"] in ("GET", "HEAD")
            and _host_of(scope) == self.settings.default_host
        ):
            # The server's own address leads to the dashboard and the API docs; a short-link
            # domain's bare root is left as it was (it belongs to that domain's owner).
            await self.page(send, 200, "home.html")
            return
        await self.app(scope, receive, send)

    def quick(
        self,
        method: bytes,
        url: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        client: tuple[str, int] | None,
        default_headers: bytes,
        keep_alive: bool,
        defer: bool = False,
    ) -> bytes | Deferred | None:
        """The whole HTTP/1.1 response to a warm click on a simple link, or None when the
        request needs the ASGI path (anything else, or a full hit buffer). Same headers, same
        hit, same token as `redirect`; see web/fastpath.py. With `defer`, a full hit buffer
        gives a `Deferred` instead: the hit to `put` and the response to send after it."""
        if method != b"GET" and method != b"HEAD":
            return None
        path = url.partition(b"?")[0]
        if not path.startswith(b"/") or b"%" in path or not path.isascii():
            return None
        found = match(path.decode("ascii"))
        if found is None:
            return None
        host, ua, referer, lang, forwarded_for = read_headers(headers)
        code, kind = found
        target = self.cache.peek(host, code)
        if target.__class__ is not Target:
            return None
        assert isinstance(target, Target)
        if not target.simple:
            return None
        now = time.time()
        ip = client[0] if client else ""
        if forwarded_for:
            ip = self.client_ip.resolve(ip, forwarded_for)
        destination, prefix, variant = target.default, target.id62, None
        if target.bounds:
            salt = self.writer.salts.known(day_of(now))
            if salt is None:
                return None  # the day's salt is not read yet: the ASGI path waits for it
            variant = split(target, visitor_day_hash(salt, host, ip, ua))
            destination, prefix = target.variants[variant], target.variant_ids[variant]
        where = destination.base
        if self.tokens and target.link.click_token:
            where = append_param(where, self.token_param, self.signer.token(prefix, now))
        where += destination.fragment
        if method == b"GET":
            raw = RawHit(target.link_id, now, kind, host, ip, ua, referer, lang, variant)
            if not self.writer.offer(raw):
                if not defer:
                    return None  # the ASGI path waits for room
                pending = raw
            else:
                pending = None
        else:
            pending = None
        response = b"".join(
            (
                _STATUS_LINES[target.link.redirect_status],
                default_headers,
                b"location: ",
                where.encode("latin-1"),
                b"\r\n",
                _TAIL_NOINDEX if target.link.noindex else _TAIL,
                b"\r\n" if keep_alive else _CLOSE + b"\r\n",
            )
        )
        return response if pending is None else Deferred(pending, response)

    async def redirect(
        self, scope: Scope, receive: Receive, send: Send, code: str, kind: str
    ) -> None:
        host, ua, referer, lang, forwarded_for = read_headers(scope["headers"])

        target = self.cache.peek(host, code)
        if target is MISSING:
            try:
                target = await self.cache.load(host, code)
            except StoreUnavailable:
                # A code never seen before, while the database is away: say so, briefly.
                await self.page(send, 503, "unavailable.html")
                return
        if target is None:
            await self.not_found(send, host, code)
            return
        assert isinstance(target, Target)
        now = time.time()
        method = scope["method"]
        client = scope.get("client")
        ip = client[0] if client else ""
        if forwarded_for:
            ip = self.client_ip.resolve(ip, forwarded_for)

        variant = None
        if target.bounds:
            variant = await self._variant(target, now, host, ip, ua)
        if target.simple and method != "POST":
            # The common case: no conditions to check, nothing to parse.
            destination, prefix = target.default, target.id62
            if variant is not None:
                destination, prefix = target.variants[variant], target.variant_ids[variant]
            where = destination.base
            if self.tokens and target.link.click_token:
                where = append_param(where, self.token_param, self.signer.token(prefix, now))
            where += destination.fragment
        else:
            found = await self._conditional(
                scope, receive, send, target, now, ip, ua, lang, variant
            )
            if found is None:
                return
            where, variant = found

        if method != "HEAD":
            raw = RawHit(target.link_id, now, kind, host, ip, ua, referer, lang, variant)
            if not self.writer.offer(raw):
                await self.writer.put(raw)
        await send(
            {
                "type": "http.response.start",
                "status": target.link.redirect_status,
                "headers": [(b"location", where.encode("latin-1")), *target_headers(target)],
            }
        )
        await send(_EMPTY_BODY)

    async def _conditional(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        target: Target,
        now: float,
        ip: str,
        ua: str,
        lang: str,
        variant: int | None,
    ) -> tuple[str, int | None] | None:
        """Location (and the A/B variant it is, None when a rule chose it) for a link with a
        window, limit, password, rules or forwarded query; None when this request was
        answered otherwise (a form, a fallback, a 410)."""
        link = target.link
        method = scope["method"]
        hits = self.cache.hit_count(target.link_id) if link.max_hits else 0
        state = outcome(target, now, hits)
        if state is Outcome.PASSWORD:
            if method != "POST":
                await self.page(send, 200, "password.html", error=None)
                return None
            # Guesses are throttled per client network and per link, before any hashing.
            guessed = str(target.link_id)
            wait = self.guesses.retry_after(ip, guessed)
            if wait:
                error = f"Too many wrong passwords. Try again in {wait} second(s)."
                retry = ((b"retry-after", str(wait).encode()),)
                await self.page(send, 429, "password.html", error=error, extra=retry)
                return None
            password = await _read_password(receive)
            assert link.password_hash is not None
            if not await self.workers.thread(check_password, password, link.password_hash):
                self.guesses.failed(ip, guessed)
                await self.page(send, 403, "password.html", error="That password is not right.")
                return None
            self.guesses.succeeded(ip, guessed)
        elif state is not Outcome.REDIRECT:
            host, code = _host_of(scope), scope["path"].rsplit("/", 1)[-1]
            await self.unavailable(send, target, state, host, code)
            return None
        elif method == "POST":
            await self.app(scope, receive, send)  # only protected links take a form post
            return None

        visit = None
        if target.rules:
            visit = self._visit(target, now, ip, ua, lang, scope["query_string"])
        destination = choose(target, visit)
        prefix = target.id62
        if destination is not target.default:
            variant = None  # a rule's destination is no variant of the split
        elif variant is not None:
            destination, prefix = target.variants[variant], target.variant_ids[variant]
        forwarded: Sequence[tuple[str, str]] = ()
        if link.forward_query and scope["query_string"]:
            query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            forwarded = forwardable(target, query, destination)
        token = None
        if self.tokens and link.click_token:
            token = (self.token_param, self.signer.token(prefix, now))
        if method != "HEAD" and link.max_hits is not None and not bot_reason(ua):
            self.cache.count_hit(target.link_id)
        return location(destination, forwarded, token), variant

    async def _variant(self, target: Target, now: float, host: str, ip: str, ua: str) -> int | None:
        """The A/B variant of this visitor; None (the control, not counted in the test) when
        the day's salt cannot be read."""
        try:
            salt = await self.writer.salts.for_day(day_of(now))
        except StoreUnavailable:
            return None
        return split(target, visitor_day_hash(salt, host, ip, ua))

    def _visit(self, target: Target, now: float, ip: str, ua: str, lang: str, qs: bytes) -> Visit:
        device = classify(ua) if target.needs_device else None
        return Visit(
            now=datetime.fromtimestamp(now, UTC),
            device_type=device.device_type if device else "other",
            os=device.os if device else "",
            country=self.geo.lookup(ip).country if ip else None,
            languages=parse_languages(lang),
            query={k: v[0] for k, v in parse_qs(qs.decode("latin-1")).items()},
        )

    async def page(
        self,
        send: Send,
        status: int,
        template: str,
        extra: Sequence[tuple[bytes, bytes]] = (),
        **context: object,
    ) -> None:
        body = self.pages.render(template, **context)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    *_NO_STORE,
                    *_PAGE_HEADERS,
                    _NOINDEX,
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def to(self, send: Send, url: str) -> None:
        headers = [(b"location", url.encode("latin-1")), *_HEADERS]
        await send({"type": "http.response.start", "status": 302, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def not_found(self, send: Send, host: str, code: str) -> None:
        try:
            domain = await self.cache.domain(host)
        except StoreUnavailable:
            domain = None
        if domain is not None and domain.fallback_url:
            await self.to(send, domain.fallback_url)
            return
        shown = host if len(host) <= SHOWN_HOST else host[:SHOWN_HOST] + "…"
        await self.page(send, 404, "not_found.html", host=shown, code=code)

    async def unavailable(
        self, send: Send, target: Target, state: Outcome, host: str, code: str
    ) -> None:
        if target.link.fallback_url:
            await self.to(send, target.link.fallback_url)
        elif state is Outcome.NOT_YET:
            await self.not_found(send, host, code)
        else:
            reason = {
                Outcome.EXPIRED: "It has expired.",
                Outcome.EXHAUSTED: "It has reached the number of visits it allows.",
                Outcome.ARCHIVED: "It has been retired by its owner.",
            }[state]
            await self.page(send, 410, "gone.html", reason=reason)


async def refuse(send: Send, status: int) -> None:
    """A head over the limits of web/headers.py, for servers without the click protocol."""
    body = MESSAGES[status]
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read_password(receive: Receive) -> str:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > FORM_LIMIT or not message.get("more_body"):
            break
    values = parse_qs(body[:FORM_LIMIT].decode("utf-8", "replace"))
    password: str = values.get("password", [""])[0]
    return password
