"""Recording server-side conversions: what the API (and later the CLI) do, in one place.

Every conversion of a request is checked (goal known, click token genuine) before any is
stored, so bad input never changes the store; then all are written in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from firstmark.domain import conversions
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.conversions import Conversion, ConversionInput
from firstmark.domain.destinations import OutboxTarget, outbox_targets
from firstmark.errors import InvalidField
from firstmark.sealing import Sealer
from firstmark.services import webhooks
from firstmark.store import Store


def seal_client(given: ConversionInput, client_data: Sealer | None) -> str | None:
    """The client's IP, user agent and page, sealed for the outbox: only for a conversion
    that may be forwarded, and never stored in clear."""
    if client_data is None or not given.consent.forwarding:
        return None
    found = {"ip": given.client_ip, "ua": given.user_agent, "url": given.event_source_url}
    kept = {k: v for k, v in found.items() if v}
    return client_data.seal(kept) if kept else None


async def record(
    store: Store,
    signer: ClickSigner,
    inputs: Sequence[ConversionInput],
    *,
    batch: bool = False,
    client_data: Sealer | None = None,
) -> list[tuple[Conversion, bool]]:
    """Store conversions; each result is (the stored or earlier conversion, duplicate).
    Conversions that may be forwarded get outbox rows in the same transaction."""
    goals = {g.name: g for g in await store.list_goals()}
    built: list[Conversion] = []
    for index, given in enumerate(inputs):
        where = f"conversions[{index}]." if batch else ""
        goal = goals.get(given.goal)
        if goal is None:
            raise InvalidField(f"{where}goal", f"no goal named {given.goal!r}", code="unknown_goal")
        link_id = None
        if given.click_token is not None:
            click = signer.verify(given.click_token)
            if click is None:
                raise InvalidField(
                    f"{where}click_token", "click_token was not issued by this server"
                )
            link_id = click.link_id
        since = given.ts - goal.window_days * 86400
        touches = (
            await store.touches_for(given.visitor_id, given.click_token, since, given.ts)
            if given.consent.identifiers
            else []
        )
        built.append(
            conversions.from_backend(
                given,
                goal,
                link_id=link_id,
                touch=conversions.credited_touch(touches, given.ts, goal),
                sealed_client=seal_client(given, client_data),
            )
        )
    saved = await store.insert_conversions(built, await outbox_for(store, built))
    await webhooks.conversions_created(store, [c for c, duplicate in saved if not duplicate])
    return saved


async def outbox_for(store: Store, built: Sequence[Conversion]) -> list[list[OutboxTarget]]:
    """The outbox rows of each new conversion (`domain.destinations.outbox_targets`), for the
    store to write with it; the destinations are read only when one may be forwarded."""
    if not any(c.consent.forwarding for c in built):
        return []
    destinations = await store.list_destinations()
    return [outbox_targets(c, destinations) for c in built]
