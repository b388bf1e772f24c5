"""Signed click tokens: `fm_click` on the destination URL ties a later conversion to a click.

A token names the link (and, on an A/B link, the variant the click was sent to: `id62-n`) and
the second of the click, plus a random nonce so that two clicks in the same second differ. It
carries nothing about the person. The signature (keyed BLAKE2b, 96 bits) stops anyone from
forging a click for a link they never clicked.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
from dataclasses import dataclass

from firstmark.domain.links import BASE62


def b62(number: int) -> str:
    if number == 0:
        return "0"
    out = []
    while number:
        number, rem = divmod(number, 62)
        out.append(BASE62[rem])
    return "".join(reversed(out))


def from_b62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + BASE62.index(char)
    return number


@dataclass(frozen=True, slots=True)
class Click:
    link_id: int
    ts: int
    nonce: str
    variant: int | None = None


def variant_prefix(id62: str, variant: int) -> str:
    """The link part of a token for a click sent to an A/B variant."""
    return f"{id62}-{variant}"


def token_variant(token: str) -> int | None:
    """The variant a token names, read without checking its signature (callers hold tokens
    that were checked when they arrived)."""
    prefix = token.partition(".")[0]
    _, dash, variant = prefix.partition("-")
    return int(variant) if dash and variant.isdigit() and len(variant) < 3 else None


class ClickSigner:
    def __init__(self, secret: str) -> None:
        # A key of its own, so a click token can never double as another signature.
        key = hashlib.blake2b(secret.encode(), digest_size=32, person=b"fm-click").digest()
        self._mac = hashlib.blake2b(digest_size=12, key=key)
        # The nonce only has to differ between clicks (the signature stops forgery), so a PRNG
        # seeded from the OS does: one getrandom() syscall per click costs more than the rest.
        self._nonces = random.Random(os.urandom(16))
        self._second = -1
        self._ts62 = ""

    def _sign(self, body: str) -> str:
        mac = self._mac.copy()
        mac.update(body.encode())
        return mac.hexdigest()

    def token(self, link_id: int | str, ts: float) -> str:
        """A token for a click on link `link_id` (an int, or its base62 form) at `ts`."""
        second = int(ts)
        if second != self._second:
            self._second, self._ts62 = second, b62(second)
        prefix = link_id if isinstance(link_id, str) else b62(link_id)
        body = f"{prefix}.{self._ts62}.{self._nonces.getrandbits(48):012x}"
        return f"{body}.{self._sign(body)}"

    def verify(self, token: str) -> Click | None:
        """The click a token stands for, or None when it was not signed by this server."""
        parts = token.split(".")
        if len(parts) != 4:
            return None
        body = ".".join(parts[:3])
        if not hmac.compare_digest(self._sign(body), parts[3]):
            return None
        link, _, variant = parts[0].partition("-")
        try:
            return Click(
                link_id=from_b62(link),
                ts=from_b62(parts[1]),
                nonce=parts[2],
                variant=int(variant) if variant else None,
            )
        except ValueError:
            return None
