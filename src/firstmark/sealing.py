"""Sealing secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from the
server secret with HKDF-SHA256, one key per purpose.

Used for destination credentials and for a pending outbox row's client IP and user agent.
The sealed text is authenticated, so a changed secret or a tampered row fails loudly instead
of yielding garbage. See docs/adr/0008-forwarding-outbox.md for why `cryptography`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from firstmark.errors import FirstmarkError


class Unsealable(FirstmarkError):
    """A sealed value cannot be opened: the server secret changed, or the row was altered."""

    status = 500
    code = "unsealable"


class Sealer:
    """Seal and open small JSON objects under one purpose ("credentials", "client", …)."""

    def __init__(self, secret: str, purpose: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"firstmark-sealing-v1",
            info=purpose.encode(),
        ).derive(secret.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        self.purpose = purpose

    def seal(self, data: Mapping[str, Any]) -> str:
        text = json.dumps(dict(data), separators=(",", ":"), sort_keys=True)
        return self._fernet.encrypt(text.encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        try:
            data = json.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            raise Unsealable(
                f"cannot open sealed {self.purpose}: was FIRSTMARK_SECRET_KEY changed?"
            ) from None
        if not isinstance(data, dict):
            raise Unsealable(f"sealed {self.purpose} is not an object")
        return data
