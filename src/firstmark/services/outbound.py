"""Outbound HTTP to URLs users choose (link destinations, destination endpoints): resolve once,
check every address, connect to an address that was checked.

A check that resolves a name and a client that resolves it again can be told two different
answers (DNS rebinding: a public address for the check, 127.0.0.1 for the request). Here the
check and the connection are one step, in the HTTP client's network backend: the host is
resolved once, refused when any of its addresses is private, loopback, link-local or otherwise
not public (domain/linkcheck.py `forbidden_address`), and the TCP connection goes to a checked
address. TLS still verifies the certificate against the host name, and the Host header is the
host name: only the address lookup is pinned. Proxies from the environment are not used (they
would connect for us, past the check).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

from firstmark.domain.linkcheck import forbidden_address

Resolver = Callable[[str, int], Awaitable[list[str]]]
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's defaults


class Refused(httpcore.ConnectError):
    """The guard would not connect (httpx raises it as httpx.ConnectError, this as its cause).
    Its message always starts with "refused: "."""


async def resolve(host: str, port: int) -> list[str]:
    """Every address of `host`, in the resolver's order, without repeats."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def checked_addresses(
    host: str,
    port: int,
    *,
    allow_private: bool,
    resolver: Resolver = resolve,
    timeout: float | None = None,
) -> list[str]:
    """The addresses of `host` a connection may use; Refused when it does not resolve or any
    address is not public (unless `allow_private`)."""
    try:
        addresses = await asyncio.wait_for(resolver(host, port), timeout)
    except (OSError, TimeoutError, UnicodeError):
        raise Refused("refused: host name does not resolve") from None
    if not addresses:
        raise Refused("refused: host name does not resolve")
    if not allow_private:
        for address in addresses:
            why = forbidden_address(address)
            if why is not None:
                raise Refused(f"refused: {why}")
    return addresses


def refusal(exc: BaseException) -> str | None:
    """The guard's reason when `exc` (an httpx error) is its refusal, else None."""
    cause = exc.__cause__
    return str(cause) if isinstance(cause, Refused) else None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the check in front of every TCP connection."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = resolve,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await checked_addresses(
            host, port, allow_private=self.allow_private, resolver=self.resolver, timeout=timeout
        )
        failure: httpcore.ConnectError | None = None
        for address in addresses:  # only addresses that were checked, never a new lookup
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise Refused("refused: not a network address")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose connections go through GuardedBackend."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver = resolve,
        limits: httpx.Limits = LIMITS,
        verify: bool = True,
    ) -> None:
        super().__init__(verify=verify, trust_env=False, limits=limits)
        # The same pool httpx builds, with the guarded backend (httpx has no argument for it).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_private=allow_private, resolver=resolver),
        )


def guarded_client(
    timeout: float, *, allow_private: bool = False, resolver: Resolver = resolve
) -> httpx.AsyncClient:
    """An httpx client for user-chosen URLs: every connection checked and pinned."""
    return httpx.AsyncClient(
        timeout=timeout,
        trust_env=False,
        transport=GuardedTransport(allow_private=allow_private, resolver=resolver),
    )


async def check_endpoint(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> None:
    """Refused when `url`'s host would be refused now (the same check every connection makes;
    this one only answers early, when the URL is saved)."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("refused: not a valid port") from None
    if not parts.hostname:
        raise Refused("refused: no host")
    await checked_addresses(
        parts.hostname, port, allow_private=allow_private, resolver=resolver, timeout=5.0
    )
