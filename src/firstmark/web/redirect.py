"""The redirect hot path: a raw ASGI handler in front of the Starlette router.

`GET /{code}` (a click) and `GET /q/{code}` (a scan) are answered here without building a
Request or Response object. A warm click is: match the path, read four headers, one dict
lookup, a few comparisons, one token signature, one deque append, two ASGI messages. Anything
else falls through to the router.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl

from firstmark.cache import MISSING, LinkCache
from firstmark.config import Settings
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.devices import bot_reason, classify
from firstmark.domain.hits import RawHit
from firstmark.domain.links import RESERVED_CODES
from firstmark.domain.passwords import check_password
from firstmark.domain.redirects import Outcome, Target, choose, forwardable, location, outcome
from firstmark.domain.rules import Visit, parse_languages
from firstmark.geo import GeoLookup
from firstmark.store.writer import HitWriter
from firstmark.web.clientip import ClientIP
from firstmark.web.pages import Pages

Scope = dict[str, Any]
CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
FORM_LIMIT = 4096

_COMMON = [
    (b"cache-control", b"private, no-store"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
_NOINDEX = (b"x-robots-tag", b"noindex")


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


class RedirectApp:
    def __init__(
        self,
        app: Any,
        *,
        settings: Settings,
        cache: LinkCache,
        writer: HitWriter,
        geo: GeoLookup,
        pages: Pages,
    ) -> None:
        self.app = app
        self.settings = settings
        self.cache = cache
        self.writer = writer
        self.geo = geo
        self.pages = pages
        self.signer = ClickSigner(settings.secret_key)
        self.token_param = settings.click_token_param
        self.tokens = settings.click_tokens
        self.client_ip = ClientIP(settings.trusted_proxies)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD", "POST"):
            found = match(scope["path"])
            if found is not None:
                await self.redirect(scope, receive, send, found[0], found[1])
                return
        await self.app(scope, receive, send)

    async def redirect(self, scope: Scope, receive: Any, send: Any, code: str, kind: str) -> None:
        host = ua = referer = lang = ""
        forwarded_for: str | None = None
        for name, value in scope["headers"]:
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
        host = (
            host.rsplit(":", 1)[0].lower()
            if ":" in host and not host.endswith("]")
            else host.lower()
        )

        target = self.cache.peek(host, code)
        if target is MISSING:
            target = await self.cache.load(host, code)
        if target is None:
            await self.not_found(send, host, code)
            return
        assert isinstance(target, Target)
        link = target.link
        now = time.time()
        method = scope["method"]
        client = scope.get("client")
        peer = client[0] if client else ""
        ip = self.client_ip.resolve(peer, forwarded_for) if forwarded_for else peer

        assert link.id is not None
        state = outcome(target, now, self.cache.hit_count(link.id) if link.max_hits else 0)
        if state is Outcome.PASSWORD:
            if method != "POST":
                await self.page(send, 200, "password.html", error=None)
                return
            password = await _read_password(receive)
            assert link.password_hash is not None
            if not await asyncio.to_thread(check_password, password, link.password_hash):
                await self.page(send, 403, "password.html", error="That password is not right.")
                return
        elif state is not Outcome.REDIRECT:
            await self.unavailable(send, target, state, host, code)
            return
        elif method == "POST":
            await self.app(scope, receive, send)  # only protected links take a form post
            return

        visit = None
        if target.rules:
            visit = self._visit(target, now, ip, ua, lang, scope["query_string"])
        destination = choose(target, visit)
        forwarded: Sequence[tuple[str, str]] = ()
        if link.forward_query and scope["query_string"]:
            forwarded = forwardable(
                target, parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            )
        token = None
        if self.tokens and link.click_token:
            assert link.id is not None
            token = (self.token_param, self.signer.token(link.id, now))
        where = location(destination, forwarded, token)

        if method != "HEAD":
            assert link.id is not None
            if link.max_hits is not None and not bot_reason(ua):
                self.cache.count_hit(link.id)
            raw = RawHit(link.id, now, kind, host, ip, ua, referer, lang)
            if not self.writer.offer(raw):
                await self.writer.put(raw)

        headers = [(b"location", where.encode("latin-1")), (b"content-length", b"0"), *_COMMON]
        if link.noindex:
            headers.append(_NOINDEX)
        await send(
            {"type": "http.response.start", "status": link.redirect_status, "headers": headers}
        )
        await send({"type": "http.response.body", "body": b""})

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

    async def page(self, send: Any, status: int, template: str, **context: object) -> None:
        body = self.pages.render(template, **context)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    *_COMMON,
                    _NOINDEX,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def to(self, send: Any, url: str) -> None:
        headers = [(b"location", url.encode("latin-1")), (b"content-length", b"0"), *_COMMON]
        await send({"type": "http.response.start", "status": 302, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def not_found(self, send: Any, host: str, code: str) -> None:
        domain = await self.cache.domain(host)
        if domain is not None and domain.fallback_url:
            await self.to(send, domain.fallback_url)
            return
        await self.page(send, 404, "not_found.html", host=host, code=code)

    async def unavailable(
        self, send: Any, target: Target, state: Outcome, host: str, code: str
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


async def _read_password(receive: Any) -> str:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > FORM_LIMIT or not message.get("more_body"):
            break
    values = parse_qs(body[:FORM_LIMIT].decode("utf-8", "replace"))
    password: str = values.get("password", [""])[0]
    return password
