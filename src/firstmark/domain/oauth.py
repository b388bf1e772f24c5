"""OAuth for destinations, the pure parts: which grant a destination's credentials make,
the service-account JWT (RS256), the token-endpoint forms, and the authorisation-code flow
with PKCE (RFC 7636, S256) that connects a destination from the dashboard.

References checked 2026-12-02: Google "Using OAuth 2.0 for Server to Server Applications"
(JWT bearer grant, `aud` = the token URI, `exp` at most an hour after `iat`), Google "OAuth
2.0 for Web Server Applications" (`access_type=offline`, `prompt=consent` to get a refresh
token, PKCE), the Data Manager API scope `https://www.googleapis.com/auth/datamanager`, the
Google Ads API scope `https://www.googleapis.com/auth/adwords`, and LinkedIn's
"Authorization Code Flow" and "Programmatic Refresh Tokens" (`/oauth/v2/accessToken`,
`grant_type=refresh_token`, 60-day access tokens, 365-day refresh tokens, scope
`rw_conversions`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_AUTH_URL = "https://accounts.google.com/o/oauth2/v2/auth"
LINKEDIN_TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"
LINKEDIN_AUTH_URL = "https://www.linkedin.com/oauth/v2/authorization"
# Scopes: Data Manager API, Google Ads API, LinkedIn Conversions API.
DATA_MANAGER_SCOPE = "https://www.googleapis.com/auth/datamanager"
ADWORDS_SCOPE = "https://www.googleapis.com/auth/adwords"
LINKEDIN_SCOPE = "rw_conversions"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_S = 3600  # Google takes assertions valid for at most an hour
MARGIN_S = 300.0  # refresh this long before a token runs out (clock skew, slow requests)
DEFAULT_EXPIRES_S = 3600.0
OAUTH_PLATFORMS = ("google_ads", "linkedin")
REFRESH_FIELDS = ("client_id", "client_secret", "refresh_token")


@dataclass(frozen=True, slots=True)
class Urls:
    """Token and authorisation endpoints (settings; tests point them at a local fake)."""

    google_token: str = GOOGLE_TOKEN_URL
    google_auth: str = GOOGLE_AUTH_URL
    linkedin_token: str = LINKEDIN_TOKEN_URL
    linkedin_auth: str = LINKEDIN_AUTH_URL

    def token(self, platform: str) -> str:
        return self.google_token if platform == "google_ads" else self.linkedin_token

    def auth(self, platform: str) -> str:
        return self.google_auth if platform == "google_ads" else self.linkedin_auth


def method(platform: str, creds: Mapping[str, str]) -> str:
    """How a destination authenticates: service_account, refresh_token or access_token."""
    if platform == "google_ads" and creds.get("service_account_key"):
        return "service_account"
    if platform in OAUTH_PLATFORMS and all(creds.get(k) for k in REFRESH_FIELDS):
        return "refresh_token"
    return "access_token"


def mints(platform: str, creds: Mapping[str, str]) -> bool:
    """Whether firstmark mints this destination's access tokens (so a 401 earns a retry)."""
    return method(platform, creds) != "access_token"


def scope(platform: str, options: Mapping[str, object]) -> str:
    if platform == "linkedin":
        return LINKEDIN_SCOPE
    return ADWORDS_SCOPE if options.get("api") == "legacy" else DATA_MANAGER_SCOPE


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def service_account(raw: str) -> dict[str, str]:
    """The fields of a service-account JSON key that firstmark uses; ValueError if it is
    not one."""
    try:
        key = json.loads(raw)
    except ValueError:
        raise ValueError(
            "service_account_key must be the JSON key file of a service account"
        ) from None
    if not isinstance(key, dict) or key.get("type") != "service_account":
        raise ValueError('service_account_key must be a key with "type": "service_account"')
    for name in ("client_email", "private_key"):
        if not isinstance(key.get(name), str) or not key[name]:
            raise ValueError(f"service_account_key has no {name}")
    try:
        private = serialization.load_pem_private_key(key["private_key"].encode(), None)
    except (ValueError, TypeError):
        raise ValueError("service_account_key: private_key is not a PEM RSA key") from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ValueError("service_account_key: private_key is not an RSA key")
    out = {"client_email": key["client_email"], "private_key": key["private_key"]}
    if isinstance(key.get("private_key_id"), str):
        out["private_key_id"] = key["private_key_id"]
    return out


def assertion(key: Mapping[str, str], audience: str, scopes: str, now: float) -> str:
    """A signed JWT (RS256) asking for an access token for the service account."""
    header = {"alg": "RS256", "typ": "JWT"}
    if key.get("private_key_id"):
        header["kid"] = key["private_key_id"]
    issued = int(now)
    claims = {
        "iss": key["client_email"],
        "scope": scopes,
        "aud": audience,
        "iat": issued,
        "exp": issued + ASSERTION_S,
    }
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    private = serialization.load_pem_private_key(key["private_key"].encode(), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def grant_form(
    platform: str, creds: Mapping[str, str], options: Mapping[str, object], url: str, now: float
) -> dict[str, str]:
    """The form posted to the token endpoint for this destination's grant."""
    if method(platform, creds) == "service_account":
        key = service_account(creds["service_account_key"])
        return {
            "grant_type": JWT_BEARER,
            "assertion": assertion(key, url, scope(platform, options), now),
        }
    return {
        "grant_type": "refresh_token",
        "refresh_token": creds["refresh_token"],
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
    }


def fingerprint(creds: Mapping[str, str]) -> str:
    """Which grant a cached token came from (a new key or refresh token starts afresh)."""
    text = "\0".join(creds.get(k, "") for k in ("service_account_key", *REFRESH_FIELDS))
    return hashlib.sha256(text.encode()).hexdigest()


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier (43 url-safe characters) and its S256 challenge."""
    verifier = _b64(secrets.token_bytes(32))
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode()).digest())


def authorize_url(
    platform: str,
    auth_url: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    challenge: str,
    options: Mapping[str, object],
) -> str:
    """Where the browser goes to grant firstmark access (authorisation code + PKCE S256)."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope(platform, options),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if platform == "google_ads":
        # A refresh token is only handed out for offline access, and again only on consent.
        params["access_type"] = "offline"
        params["prompt"] = "consent"
    return f"{auth_url}?{urlencode(params)}"


def code_form(
    creds: Mapping[str, str], code: str, redirect_uri: str, verifier: str
) -> dict[str, str]:
    """The form that exchanges an authorisation code for tokens."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
        "code_verifier": verifier,
    }
