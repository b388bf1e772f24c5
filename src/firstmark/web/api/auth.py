"""Bearer API keys with scopes; a user's key is also bounded by the user's role today."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from firstmark.domain.keys import ApiKey, matches, split_key
from firstmark.domain.roles import may_use
from firstmark.errors import Forbidden, Unauthorized
from firstmark.web.runtime import runtime

TOUCH_EVERY = timedelta(minutes=1)


async def require(request: Request, scope: str) -> ApiKey:
    """The request's API key, which must hold `scope` (admin holds every scope)."""
    header = request.headers.get("authorization", "")
    kind, _, presented = header.partition(" ")
    if kind.lower() != "bearer" or not presented.strip():
        raise Unauthorized("send an API key as 'Authorization: Bearer fm_…'")
    parts = split_key(presented.strip())
    store = runtime(request).store
    key = await store.api_key_by_prefix(parts[0]) if parts else None
    if key is None or parts is None or key.revoked or not matches(key, parts[1]):
        raise Unauthorized("the API key is not valid")
    if not key.allows(scope):
        if key.role is not None and not may_use(key.role, scope):
            raise Forbidden(f"this API key's user is {key.role}, which cannot use {scope!r}")
        raise Forbidden(f"this API key lacks the {scope!r} scope")
    now = datetime.now(UTC)
    if key.id is not None and (key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY):
        await store.touch_api_key(key.id, now)
    return key


def api_key(request: Request) -> ApiKey:
    """The key the route's declaration checked (contract.op), for handlers that record who acted."""
    key: ApiKey = request.state.api_key
    return key
