"""Creating and changing destinations: what the API and the CLI both do, in one place.
Credentials are sealed here, before the store sees them.

A destination's own `endpoint_base` receives its credentials, so it must pass the address guard
every outbound connection passes (services/outbound.py): checked here when it is saved, and
again, pinned, on every connection. Changing it needs the credentials again (domain.parse).
"""

from __future__ import annotations

from firstmark.domain import destinations
from firstmark.domain.destinations import Destination, DestinationInput
from firstmark.errors import InvalidField, NotFound
from firstmark.sealing import Sealer
from firstmark.services import outbound
from firstmark.store import Store

NOT_CONNECTED = "not connected yet: use Connect in the dashboard or `firstmark destination connect`"


async def _check_goals(store: Store, checked: DestinationInput) -> None:
    known = {g.name for g in await store.list_goals()}
    for goal in checked.goals:
        if goal not in known:
            raise InvalidField(f"goals.{goal}", f"no goal named {goal!r}", code="unknown_goal")


async def _check_endpoint(checked: DestinationInput, allow_private: bool) -> None:
    if checked.endpoint_base is None:
        return
    try:
        await outbound.check_endpoint(checked.endpoint_base, allow_private=allow_private)
    except outbound.Refused as exc:
        raise InvalidField(
            "endpoint_base", f"endpoint_base must reach a public address ({exc})"
        ) from None


async def create(
    store: Store, sealer: Sealer, body: object, *, allow_private: bool = False
) -> Destination:
    checked = destinations.parse(body)
    await _check_goals(store, checked)
    await _check_endpoint(checked, allow_private)
    assert checked.credentials is not None
    saved = await store.insert_destination(
        destinations.build(checked, sealer.seal(checked.credentials))
    )
    return await _auth_state(store, saved)


async def _auth_state(store: Store, dest: Destination) -> Destination:
    """A destination whose credentials cannot authenticate yet (an OAuth client without a
    refresh token) waits for Connect; complete credentials clear `needs_reauth`."""
    assert dest.id is not None
    ready = destinations.auth_ready(dest.platform, dest.credential_fields)
    if ready and dest.auth_status != "ok":
        await store.set_destination_auth(dest.id, "ok")
    elif not ready:
        await store.set_destination_auth(dest.id, "needs_reauth", NOT_CONNECTED)
    else:
        return dest
    found = await store.get_destination(dest.id)
    assert found is not None
    return found


async def find(store: Store, ref: str | int) -> Destination:
    """By id, or by name."""
    if isinstance(ref, int) or ref.isdigit():
        found = await store.get_destination(int(ref))
    else:
        found = next((d for d in await store.list_destinations() if d.name == ref), None)
    if found is None:
        raise NotFound(f"no destination {ref!r}")
    return found


async def update(
    store: Store, sealer: Sealer, current: Destination, body: object, *, allow_private: bool = False
) -> Destination:
    opened: dict[str, str] = {}
    if isinstance(body, dict) and "credentials" in body:
        opened = {k: str(v) for k, v in sealer.open(current.credentials_sealed).items()}
    checked = destinations.parse(body, current, current_credentials=opened)
    await _check_goals(store, checked)
    if checked.endpoint_base != current.endpoint_base:
        await _check_endpoint(checked, allow_private)
    sealed = sealer.seal(checked.credentials) if checked.credentials is not None else None
    saved = await store.update_destination(destinations.build(checked, sealed, current))
    # New credentials are a new chance: the destination leaves needs_reauth if they are
    # complete, and its waiting conversions go out.
    return await _auth_state(store, saved) if sealed is not None else saved


async def connect(
    store: Store, sealer: Sealer, dest: Destination, refresh_token: str
) -> Destination:
    """Store a refresh token (pasted, or from the OAuth flow) sealed, and resume the
    destination's waiting conversions."""
    if dest.platform not in destinations.CONNECTABLE:
        raise InvalidField("platform", f"{dest.platform} does not use refresh tokens")
    token = refresh_token.strip()
    if not token or len(token) > destinations.MAX_CREDENTIAL:
        raise InvalidField("refresh_token", "refresh_token must be a non-empty string")
    opened = {k: str(v) for k, v in sealer.open(dest.credentials_sealed).items()}
    for needed in destinations.CONNECTABLE[dest.platform]:
        if not opened.get(needed):
            raise InvalidField(
                f"credentials.{needed}", f"set credentials.{needed} before connecting",
                code="required",
            )  # fmt: skip
    return await update(store, sealer, dest, {"credentials": {"refresh_token": token}})
