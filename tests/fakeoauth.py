"""A fake Google on loopback: an OAuth token endpoint (refresh-token, JWT-bearer and
authorisation-code grants, as RFC 6749 / RFC 7523 and Google's guides describe them) and the
Data Manager `events:ingest` method, which takes only access tokens the endpoint issued and
that have not run out by the test's clock."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from serverproc import FakeServer, JSONHandler

CLIENT_ID, CLIENT_SECRET = "client-123.apps.example", "client-secret-xyz"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DATA_MANAGER_SCOPE = "https://www.googleapis.com/auth/datamanager"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rsa_key() -> tuple[rsa.RSAPrivateKey, str]:
    """A private key and the service-account JSON key file that holds it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    file = {
        "type": "service_account",
        "project_id": "fm-test",
        "private_key_id": "kid-1",
        "private_key": pem,
        "client_email": "forwarder@fm-test.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return key, json.dumps(file)


class FakeGoogle(FakeServer):
    def __init__(self, clock: Callable[[], float], lifetime: int = 3600) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.lock = threading.Lock()
        self.refresh_tokens = {"refresh-1"}  # valid ones
        self.rotate_next = False  # the next refresh hands out a new refresh token
        self.public_key: rsa.RSAPublicKey | None = None
        self.codes: dict[str, str] = {}  # code → PKCE challenge
        self.tokens: dict[str, float] = {}  # access token → expiry
        self.grants: list[dict[str, str]] = []
        self.refused: list[str] = []  # token endpoint refusals
        self.unauthorised = 0  # 401s answered by the API
        self.accepted: list[str] = []  # transaction ids, in order
        self.issued = 0
        fake = self

        class Handler(JSONHandler):
            def do_GET(self) -> None:
                """Google's consent page, where the user says yes at once: back to the
                redirect URI with a code tied to the PKCE challenge."""
                path, _, query = self.path.partition("?")
                asked = {k: v[0] for k, v in parse_qs(query).items()}
                if path != "/auth" or asked.get("code_challenge_method") != "S256":
                    return self.answer(400, {"error": "invalid_request"})
                code = f"code-{len(fake.codes) + len(fake.grants) + 1}"
                with fake.lock:
                    fake.codes[code] = asked["code_challenge"]
                back = (
                    f"{asked['redirect_uri']}?{urlencode({'code': code, 'state': asked['state']})}"
                )
                self.send_response(302)
                self.send_header("location", back)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["content-length"]))
                if self.path == "/token":
                    form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                    status, body = fake.token(form)
                    return self.answer(status, body)
                if self.path == "/v1/events:ingest":
                    auth = self.headers.get("authorization", "")
                    if not fake.valid(auth.removeprefix("Bearer ")):
                        with fake.lock:
                            fake.unauthorised += 1
                        message = "Request had invalid authentication credentials."
                        error = {"code": 401, "status": "UNAUTHENTICATED", "message": message}
                        return self.answer(401, {"error": error})
                    body = json.loads(raw)
                    with fake.lock:
                        fake.accepted += [e["transactionId"] for e in body["events"]]
                    return self.answer(200, {"requestId": f"req-{len(fake.accepted)}"})
                return self.answer(404, {"error": {"message": "no such method"}})

        super().__init__(Handler)
        self.token_url = f"{self.url}/token"

    # --- the token endpoint ----------------------------------------------------------------

    def _issue(self, refresh: str | None = None) -> tuple[int, dict[str, Any]]:
        self.issued += 1
        token = f"ya29.token-{self.issued}"
        self.tokens[token] = self.clock() + self.lifetime
        body: dict[str, Any] = {
            "access_token": token, "expires_in": self.lifetime, "token_type": "Bearer",
            "scope": DATA_MANAGER_SCOPE,
        }  # fmt: skip
        if refresh:
            body["refresh_token"] = refresh
        return 200, body

    def _refuse(self, error: str, description: str) -> tuple[int, dict[str, Any]]:
        self.refused.append(error)
        return 400, {"error": error, "error_description": description}

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.grants.append(form)
            kind = form.get("grant_type")
            if kind == "refresh_token":
                if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
                    return self._refuse("invalid_client", "The OAuth client was not found.")
                if form.get("refresh_token") not in self.refresh_tokens:
                    return self._refuse("invalid_grant", "Token has been expired or revoked.")
                if self.rotate_next:
                    self.rotate_next = False
                    self.refresh_tokens.discard(form["refresh_token"])
                    new = f"refresh-{len(self.refresh_tokens) + 2}-rotated"
                    self.refresh_tokens.add(new)
                    return self._issue(new)
                return self._issue()
            if kind == JWT_BEARER:
                return self._jwt(form.get("assertion", ""))
            if kind == "authorization_code":
                challenge = self.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                if challenge is None or digest.rstrip(b"=").decode() != challenge:
                    return self._refuse("invalid_grant", "Bad code or code_verifier.")
                new = f"refresh-from-code-{len(self.refresh_tokens) + 1}"
                self.refresh_tokens.add(new)
                return self._issue(new)
            return self._refuse("unsupported_grant_type", "Invalid grant_type.")

    def _jwt(self, assertion: str) -> tuple[int, dict[str, Any]]:
        try:
            head, claims, signature = assertion.split(".")
            header = json.loads(_unb64(head))
            body = json.loads(_unb64(claims))
            assert header == {"alg": "RS256", "typ": "JWT", "kid": "kid-1"}
            assert self.public_key is not None
            self.public_key.verify(
                _unb64(signature), f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (ValueError, AssertionError, InvalidSignature):
            return self._refuse("invalid_grant", "Invalid JWT Signature.")
        now = self.clock()
        if (
            body.get("aud") != self.token_url
            or body.get("scope") != DATA_MANAGER_SCOPE
            or body.get("iss") != "forwarder@fm-test.iam.gserviceaccount.com"
            or not body["iat"] - 60 <= now <= body["exp"]
            or body["exp"] - body["iat"] > 3600
        ):
            return self._refuse("invalid_grant", "Invalid JWT claims.")
        return self._issue()

    # --- the API ---------------------------------------------------------------------------

    def valid(self, token: str) -> bool:
        with self.lock:
            expiry = self.tokens.get(token)
            return expiry is not None and self.clock() < expiry

    def revoke_access_tokens(self) -> None:
        """Access tokens stop working before their stated expiry (as after a password
        change)."""
        with self.lock:
            self.tokens.clear()
