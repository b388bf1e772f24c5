"""A fake OpenID Connect provider, as OpenID Connect Core 1.0 and RFC 7636 describe one: a
discovery document, its signing keys (JWKS), an authorization endpoint whose user says yes at
once, and a token endpoint that takes each code once, only from the client that holds the
secret, only with the PKCE verifier the code was asked for, and answers with an RS256 ID token.

The attributes after `claims` spoil the next ID token in one way each, for the tests that
firstmark refuses it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

ISSUER = "https://idp.test"
CLIENT_ID, CLIENT_SECRET = "firstmark-dashboard", "s3cret-of-the-client"


@dataclass
class Grant:
    challenge: str
    nonce: str
    redirect_uri: str


class FakeProvider:
    def __init__(self, issuer: str = ISSUER) -> None:
        self.issuer = issuer
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
        self.claims: dict[str, Any] = {"sub": "u-1", "preferred_username": "ada"}
        self.signing_key: RSAKey | None = None  # another key, under key-1's id
        self.audience: str | None = None  # another audience
        self.lifetime = 300  # seconds; negative: expired already
        self.nonce: str | None = None  # another nonce
        self.discovered_issuer: str | None = None  # another issuer in the discovery document
        self.grants: dict[str, Grant] = {}
        self.used: set[str] = set()
        self.refused: list[str] = []  # the token endpoint's refusals, by error code
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.discovered_issuer or self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        """The user is signed in at the provider and agrees: back with a code."""
        asked = request.query_params
        if (
            asked.get("response_type") != "code"
            or asked.get("client_id") != CLIENT_ID
            or asked.get("code_challenge_method") != "S256"
            or "openid" not in asked.get("scope", "").split()
        ):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            asked["code_challenge"], asked.get("nonce", ""), asked["redirect_uri"]
        )
        back = urlencode({"code": code, "state": asked.get("state", "")})
        return RedirectResponse(f"{asked['redirect_uri']}?{back}", status_code=302)

    def _refuse(self, error: str, status: int = 400) -> Response:
        self.refused.append(error)
        return JSONResponse({"error": error}, status_code=status)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {basic}":
            return self._refuse("invalid_client", 401)
        code = str(form.get("code", ""))
        grant = self.grants.get(code)
        if form.get("grant_type") != "authorization_code" or grant is None or code in self.used:
            return self._refuse("invalid_grant")
        self.used.add(code)
        verifier = str(form.get("code_verifier", ""))
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
            return self._refuse("invalid_grant")
        if form.get("redirect_uri") != grant.redirect_uri:
            return self._refuse("invalid_grant")
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience or CLIENT_ID,
            "iat": now,
            "exp": now + self.lifetime,
            "nonce": self.nonce or grant.nonce,
            **self.claims,
        }
        key = self.signing_key or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "key-1"}, claims, key)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )
