"""Access tokens for platforms that hand out short-lived ones: Google (Data Manager and the
Google Ads API) and LinkedIn. Minted from the destination's long-lived grant, cached in
memory, refreshed before they expire.

Grants, by the credential fields a destination holds:
- `service_account_key` (Google): the JSON key of a service account; a JWT signed RS256
  with its private key is exchanged at the token endpoint with
  `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523; Google's
  "Using OAuth 2.0 for Server to Server Applications").
- `client_id` + `client_secret` + `refresh_token` (Google, LinkedIn):
  `grant_type=refresh_token` (RFC 6749 §6). A response may carry a new refresh token
  (rotation; LinkedIn's programmatic refresh tokens); the caller stores it sealed.
- `access_token` alone: used as given, never refreshed.

A refused grant (`invalid_grant`, a revoked or expired refresh token, a deleted key) raises
`ReauthNeeded`: the destination needs new credentials and its conversions wait. A token
endpoint that is down raises `TokenUnavailable`: the batch is retried later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from firstmark.domain.oauth import (
    DEFAULT_EXPIRES_S,
    MARGIN_S,
    Urls,
    fingerprint,
    grant_form,
    method,
)
from firstmark.forward.adapters.base import USER_AGENT, message_of, retryable_status

JSON = "application/json"


class OAuthSettings(Protocol):
    """The settings that name the endpoints (config.Settings has them)."""

    @property
    def oauth_google_token_url(self) -> str: ...
    @property
    def oauth_google_auth_url(self) -> str: ...
    @property
    def oauth_linkedin_token_url(self) -> str: ...
    @property
    def oauth_linkedin_auth_url(self) -> str: ...


def oauth_urls(settings: OAuthSettings) -> Urls:
    return Urls(
        google_token=settings.oauth_google_token_url,
        google_auth=settings.oauth_google_auth_url,
        linkedin_token=settings.oauth_linkedin_token_url,
        linkedin_auth=settings.oauth_linkedin_auth_url,
    )


class ReauthNeeded(Exception):
    """The grant was refused: someone must connect the destination again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TokenUnavailable(Exception):
    """The token endpoint could not answer now (down, slow, rate limited): try later."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class Minted:
    """An access token, when it runs out, and a rotated refresh token if the endpoint sent
    one (to be stored sealed by the caller)."""

    access_token: str
    expires_at: float
    rotated_refresh_token: str | None = None


@dataclass(slots=True)
class _Entry:
    token: str
    expires_at: float
    margin: float  # refreshed this long before expires_at
    source: str  # fingerprint of the credentials it was minted from


@dataclass
class TokenProvider:
    """Mints and caches access tokens, one lock per destination so concurrent batches
    refresh once."""

    client: httpx.AsyncClient
    urls: Urls = field(default_factory=Urls)
    clock: Callable[[], float] | None = None
    minted: int = 0  # tokens minted
    _cache: dict[int, _Entry] = field(default_factory=dict)
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)

    def _now(self) -> float:
        return self.clock() if self.clock is not None else time.time()

    def forget(self, dest_id: int) -> None:
        self._cache.pop(dest_id, None)

    async def token(
        self,
        dest_id: int,
        platform: str,
        creds: Mapping[str, str],
        options: Mapping[str, object],
        *,
        stale: str | None = None,
    ) -> Minted | None:
        """The access token to send with; None for a destination with a fixed token.
        `stale`: a token the platform just refused (401), so a fresh one is minted unless
        another batch already replaced it."""
        if method(platform, creds) == "access_token":
            return None
        lock = self._locks.setdefault(dest_id, asyncio.Lock())
        async with lock:
            entry = self._cache.get(dest_id)
            usable = (
                entry is not None
                and entry.source == fingerprint(creds)
                and self._now() < entry.expires_at - entry.margin
                and entry.token != stale
            )
            if usable:
                assert entry is not None
                return Minted(entry.token, entry.expires_at)
            minted = await self._mint(platform, creds, options)
            source = creds
            if minted.rotated_refresh_token:
                source = {**creds, "refresh_token": minted.rotated_refresh_token}
            lifetime = minted.expires_at - self._now()
            margin = min(MARGIN_S, lifetime / 10)
            self._cache[dest_id] = _Entry(
                minted.access_token, minted.expires_at, margin, fingerprint(source)
            )
            self.minted += 1
            return minted

    async def exchange(self, platform: str, form: Mapping[str, str]) -> dict[str, object]:
        """POST a form to the platform's token endpoint; the JSON answer. Raises
        ReauthNeeded for a refused grant, TokenUnavailable for a transient failure."""
        url = self.urls.token(platform)
        try:
            response = await self.client.post(
                url, data=dict(form), headers={"accept": JSON, "user-agent": USER_AGENT}
            )
        except httpx.TimeoutException:
            raise TokenUnavailable("the token endpoint timed out") from None
        except httpx.TransportError as exc:
            raise TokenUnavailable(
                f"token endpoint: transport error: {type(exc).__name__}"
            ) from None
        if retryable_status(response.status_code):
            raise TokenUnavailable(f"token endpoint: HTTP {response.status_code}")
        try:
            data = response.json()
        except (ValueError, UnicodeDecodeError):
            data = None
        if response.status_code != 200 or not isinstance(data, dict):
            code = data.get("error") if isinstance(data, dict) else None
            detail = message_of(response)
            what = f"{code}: {detail}" if isinstance(code, str) and code != detail else detail
            raise ReauthNeeded(
                f"the platform refused the grant (HTTP {response.status_code}, {what})"
            )
        return data

    async def _mint(
        self, platform: str, creds: Mapping[str, str], options: Mapping[str, object]
    ) -> Minted:
        url = self.urls.token(platform)
        try:
            form = grant_form(platform, creds, options, url, self._now())
        except ValueError as exc:
            raise ReauthNeeded(str(exc)) from None
        data = await self.exchange(platform, form)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise ReauthNeeded("the token endpoint answered without an access_token")
        lifetime = _lifetime(data.get("expires_in", DEFAULT_EXPIRES_S))
        rotated = data.get("refresh_token")
        new_refresh = (
            rotated
            if isinstance(rotated, str)
            and rotated
            and rotated != creds.get("refresh_token")
            and method(platform, creds) == "refresh_token"
            else None
        )
        return Minted(token, self._now() + lifetime, new_refresh)


def _lifetime(raw: object) -> float:
    try:
        value = float(raw) if isinstance(raw, int | float | str) else DEFAULT_EXPIRES_S
    except ValueError:
        return DEFAULT_EXPIRES_S
    return value if value > 0 else DEFAULT_EXPIRES_S
