"""`GET /n`: a tracking number for this page's session (dynamic number insertion), and
`GET /fm-phone.js`, the script that asks for it (fm.js loads it only where a number shows).

A raw ASGI handler in front of the router, like `POST /e`: one site lookup and one pool lookup
(both cached), one store call (take or renew a lease), a small JSON answer. The answer is never
cached and never sets a cookie; the page may read it from any of the site's hosts.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from firstmark.config import Settings
from firstmark.domain import dni, privacymode
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.numbers import Pool
from firstmark.domain.schema import clean_text
from firstmark.errors import FirstmarkError, Forbidden, InvalidField, RateLimited
from firstmark.store import Store
from firstmark.web.clientip import ClientIP
from firstmark.web.collect import SiteCache, cors, json_reply
from firstmark.web.ratelimit import RateLimiter
from firstmark.web.script import Script

MAX_PARAMS = 64


class PoolCache:
    """Every pool, from memory: read again after `ttl` seconds, or at once after an edit made
    through this process (`invalidate`). Pools change rarely; numbers come from the store."""

    def __init__(self, store: Store, ttl: float) -> None:
        self.store = store
        self.ttl = max(ttl, 0.5)
        self._pools: list[Pool] = []
        self._until = 0.0
        self._lock = asyncio.Lock()

    async def all(self) -> list[Pool]:
        if self._until > time.monotonic():
            return self._pools
        async with self._lock:  # one read for all the requests that found the cache stale
            if self._until <= time.monotonic():
                listed = await self.store.list_pools(time.time())
                self._pools = [pool for pool, _, _ in listed]
                self._until = time.monotonic() + self.ttl
        return self._pools

    def invalidate(self) -> None:
        self._until = 0.0


class DniApp:
    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        store: Store,
        sites: SiteCache,
        pools: PoolCache,
        signer: ClickSigner,
    ) -> None:
        self.app = app
        self.store = store
        self.sites = sites
        self.pools = pools
        self.signer = signer
        self.token_param = settings.click_token_param
        self.honour_dnt = settings.honour_dnt
        self.exempt = settings.privacy_mode == "exempt"
        self.renew_most = settings.dni_renew_s
        self.client_ip = ClientIP(settings.trusted_proxies)
        self.limiter = (
            RateLimiter(settings.dni_rate_limit, settings.dni_rate_burst)
            if settings.dni_rate_limit > 0
            else None
        )
        self.script = Script("fm-phone.js")
        self.taken = self.renewed = self.exhausted = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, method = scope["path"], scope["method"]
            if path == "/n":
                if method == "GET":
                    await self.number(scope, send)
                else:
                    await json_reply(send, 405, _not_allowed, [(b"allow", b"GET")])
                return
            if path == "/fm-phone.js" and method in ("GET", "HEAD"):
                await self.script.serve(scope, send)
                return
        await self.app(scope, receive, send)

    async def number(self, scope: Scope, send: Send) -> None:
        origin = referer = ""
        forwarded_for: str | None = None
        gpc = False
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"referer":
                referer = value.decode("latin-1")
            elif name == b"sec-gpc":
                gpc = gpc or value.strip() == b"1"
            elif name == b"dnt":
                gpc = gpc or (self.honour_dnt and value.strip() == b"1")
            elif name == b"x-forwarded-for":
                forwarded_for = value.decode("latin-1")
        client = scope.get("client")
        ip = client[0] if client else ""
        if forwarded_for:
            ip = self.client_ip.resolve(ip, forwarded_for)
        headers = [*cors(origin), (b"cache-control", b"no-store")]
        try:
            if self.limiter is not None and not self.limiter.allow(ip):
                wait = str(self.limiter.retry_after(ip)).encode()
                limited = RateLimited("too many number requests from your network; slow down")
                await json_reply(send, 429, limited.to_json(), [*headers, (b"retry-after", wait)])
                return
            answer = await self._answer(scope["query_string"], origin, referer, gpc)
        except FirstmarkError as exc:
            await json_reply(send, exc.status, exc.to_json(), headers)
            return
        await json_reply(send, 200, answer, headers)

    async def _answer(self, query: bytes, origin: str, referer: str, gpc: bool) -> dict[str, Any]:
        # Browsers send Origin on cross-origin requests; a same-origin GET (the script served
        # from the site's own domain) carries only the Referer.
        page_host = _host(origin) if origin and origin != "null" else _host(referer)
        if not page_host:
            raise Forbidden(
                "the request names no page (Origin or Referer)", field="origin", code="unknown_host"
            )
        request = dni.parse(
            _pairs(query),
            signer=self.signer,
            token_param=self.token_param,
            gpc=gpc,
            page_host=page_host,
        )
        if self.exempt:
            request = privacymode.exempt_number_request(request)
        site = await self.sites.get(request.site_key)
        if site is None:
            raise Forbidden("unknown site key", field="site", code="unknown_site")
        if not site.allows(page_host):
            raise Forbidden(
                "this host is not registered for the site", field="origin", code="unknown_host"
            )
        assert site.id is not None
        pool = dni.pick_pool(await self.pools.all(), request.pool, site.id)
        renew_s = dni.renew_every(pool, self.renew_most)
        now = time.time()
        if request.renew is not None:
            kept = await self.store.renew_lease(request.renew, now, now + pool.lease_s)
            if kept is not None:
                self.renewed += 1
                return dni.answer(kept, pool, renew_s=renew_s, renewed=True)
        taken = await self.store.take_lease(dni.draft(request, pool, site_id=site.id, now=now), now)
        if taken is None:
            self.exhausted += 1
        else:
            self.taken += 1
        return dni.answer(taken, pool, renew_s=renew_s)


_not_allowed = {"error": {"code": "method_not_allowed", "message": "use GET /n"}}


def _pairs(query: bytes) -> list[tuple[str, str]]:
    if len(query) > dni.QUERY_LIMIT:
        raise InvalidField(
            "query", f"the query is longer than {dni.QUERY_LIMIT // 1024} KB", code="too_long"
        )
    try:
        pairs = parse_qsl(
            query.decode("latin-1"), keep_blank_values=True, max_num_fields=MAX_PARAMS
        )
    except ValueError:
        raise InvalidField("query", f"the query has more than {MAX_PARAMS} parameters") from None
    return [(clean_text(k), clean_text(v)) for k, v in pairs]


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
