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
    return await store.insert_destination(
        destinations.build(checked, sealer.seal(checked.credentials))
    )


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
    return await store.update_destination(destinations.build(checked, sealed, current))
