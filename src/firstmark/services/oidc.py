"""Single sign-on with an OpenID Connect provider: the authorization code flow with PKCE.

`Provider.start` makes the provider's sign-in URL and what the callback must check it against
(state, nonce, PKCE verifier); `Provider.finish` exchanges the code for tokens and returns the
ID token's claims once its signature (the provider's JWKS), issuer, audience, expiry and nonce
are checked. The provider's discovery document and keys are cached; the keys are fetched again
when a token names a key not seen yet (the provider rotated them).

The issuer is the operator's choice, as trusted as the database URL: requests to it are not
held to public addresses (an identity provider on the local network is common).

References checked 2026-12-03: OpenID Connect Core 1.0 (3.1, the authorization code flow;
3.1.3.7, ID token validation), OpenID Connect Discovery 1.0 (4.3, the issuer must match) and
RFC 7636 (PKCE, S256).
"""

from __future__ import annotations

import secrets
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from firstmark.config import Settings
from firstmark.errors import FirstmarkError

with warnings.catch_warnings():
    # authlib announces that its httpx client will move to httpx's successor; firstmark is on
    # httpx, which the client still takes.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DISCOVERY_TTL_S = 3600.0
LEEWAY_S = 60  # clock skew between the provider and this server
# Signature algorithms taken for ID tokens: public-key ones only, never "none" or a shared
# secret (an HS256 token could be made by anyone who knows the client secret).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


class ProviderUnreachable(FirstmarkError):
    """The provider did not answer, or answered with something that is not OpenID Connect."""

    status = 502
    code = "provider_unreachable"


class SignInRefused(FirstmarkError):
    """The sign-in cannot be trusted or was declined; `reason` is for the log, not the page
    (it never holds a token or a code)."""

    status = 400
    code = "sign_in_refused"

    def __init__(self, message: str, reason: str, status: int = 400) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class Pending:
    """A sign-in that has left for the provider: what its callback is checked against."""

    state: str
    nonce: str
    verifier: str  # the PKCE code verifier; the provider saw only its SHA-256
    next: str


def _endpoint(url: object, field: str) -> str:
    """An endpoint URL of the discovery document (the browser or this server goes there)."""
    if not isinstance(url, str) or urlsplit(url).scheme not in {"https", "http"}:
        raise ProviderUnreachable(f"the provider's discovery document has no usable {field}")
    return url


class Provider:
    """One OpenID Connect provider, as the settings name it."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.client_secret = settings.oidc_client_secret
        self.scopes = " ".join(settings.oidc_scopes.split())
        self.redirect_uri = f"{settings.base_url.rstrip('/')}/dashboard/login/oidc/callback"
        self.transport = transport  # tests talk to a fake provider through it
        self.clock = clock
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    @property
    def label(self) -> str:
        """What the login page calls the provider: its host."""
        return urlsplit(self.issuer).netloc

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=TIMEOUT) as http:
                answer = await http.get(url, headers={"accept": "application/json"})
            answer.raise_for_status()
            data = answer.json()
        except httpx.HTTPStatusError as exc:
            raise ProviderUnreachable(
                f"the provider answered {exc.response.status_code} for its {what}"
            ) from None
        except httpx.HTTPError as exc:
            raise ProviderUnreachable(
                f"the provider cannot be reached ({type(exc).__name__})"
            ) from None
        except ValueError:
            raise ProviderUnreachable(f"the provider's {what} is not JSON") from None
        if not isinstance(data, dict):
            raise ProviderUnreachable(f"the provider's {what} is not a JSON object")
        return data

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, fetched at most once an hour."""
        now = self.clock()
        if self._metadata is not None and now - self._metadata_at < DISCOVERY_TTL_S:
            return self._metadata
        found = await self._get_json(
            f"{self.issuer}/.well-known/openid-configuration", "discovery document"
        )
        # Discovery 4.3: the document's issuer is exactly the one configured, or an impostor
        # could name another's endpoints.
        if str(found.get("issuer", "")).rstrip("/") != self.issuer:
            raise ProviderUnreachable(
                "the provider's discovery document names another issuer; check "
                "FIRSTMARK_OIDC_ISSUER"
            )
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            _endpoint(found.get(field), field)
        self._metadata, self._metadata_at = found, now
        self._keys = None  # new document, keys fetched anew
        return found

    async def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            meta = await self.metadata()
            found = await self._get_json(meta["jwks_uri"], "signing keys")
            try:
                self._keys = KeySet.import_key_set(found)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError):
                raise ProviderUnreachable("the provider's signing keys cannot be read") from None
        return self._keys

    def _client(self, auth_method: str = "client_secret_basic") -> Any:
        return AsyncOAuth2Client(
            self.client_id,
            self.client_secret,
            token_endpoint_auth_method=auth_method,
            scope=self.scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=TIMEOUT,
            transport=self.transport,
        )

    async def start(self, next_url: str) -> tuple[str, Pending]:
        """The provider's sign-in URL, and what the callback checks it against."""
        meta = await self.metadata()
        pending = Pending(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),  # 64 characters, within RFC 7636's 43-128
            next=next_url,
        )
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                meta["authorization_endpoint"],
                state=pending.state,
                code_verifier=pending.verifier,
                nonce=pending.nonce,
            )
        return str(url), pending

    def _auth_method(self, meta: dict[str, Any]) -> str:
        """client_secret_basic, the default of OpenID Connect, unless the provider takes
        only client_secret_post."""
        methods = meta.get("token_endpoint_auth_methods_supported")
        if isinstance(methods, list) and "client_secret_basic" not in methods:
            if "client_secret_post" in methods:
                return "client_secret_post"
        return "client_secret_basic"

    async def finish(self, pending: Pending, code: str) -> dict[str, Any]:
        """Exchange `code` for tokens; the ID token's claims, every check passed."""
        meta = await self.metadata()
        try:
            async with self._client(self._auth_method(meta)) as client:
                token = await client.fetch_token(
                    meta["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.verifier,
                )
        except OAuthError as exc:
            raise SignInRefused(
                "The identity provider did not accept this sign-in (it may have been used "
                "already, or taken too long). Try again.",
                f"token endpoint refused: {exc.error}",
            ) from None
        except httpx.HTTPStatusError as exc:
            raise ProviderUnreachable(
                f"the provider's token endpoint answered {exc.response.status_code}"
            ) from None
        except httpx.HTTPError as exc:
            raise ProviderUnreachable(
                f"the provider cannot be reached ({type(exc).__name__})"
            ) from None
        except ValueError:
            raise ProviderUnreachable("the provider's token answer is not JSON") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused(
                "The identity provider sent no ID token; is the openid scope allowed?",
                "no id_token in the token answer",
            )
        return await self._claims(id_token, pending.nonce, token.get("access_token"), meta)

    async def _claims(
        self, id_token: str, nonce: str, access_token: object, meta: dict[str, Any]
    ) -> dict[str, Any]:
        offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in ALGORITHMS if a in offered] if isinstance(offered, list) else []
        refused = "The identity provider's answer could not be verified. Try again."
        try:
            try:
                decoded = jwt.decode(id_token, await self._key_set(), algorithms=algorithms)
            except InvalidKeyIdError:
                decoded = jwt.decode(
                    id_token, await self._key_set(refresh=True), algorithms=algorithms
                )
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "values": [self.issuer, f"{self.issuer}/"]},
                    "aud": {"essential": True, "value": self.client_id},
                    "nonce": {"essential": True, "value": nonce},
                },
                {
                    "nonce": nonce,
                    "client_id": self.client_id,
                    **({"access_token": access_token} if isinstance(access_token, str) else {}),
                },
            )
            claims.validate(now=int(self.clock()), leeway=LEEWAY_S)
        except JoseError as exc:
            raise SignInRefused(refused, f"ID token refused: {exc}"[:200], 401) from None
        except (ValueError, TypeError, KeyError):
            raise SignInRefused(refused, "ID token unreadable", 401) from None
        return dict(claims)
