"""Access tokens through a fake Google token endpoint on loopback: tokens minted and cached,
refreshed before they run out, a 401 retried once with a fresh token, rotated refresh tokens
stored sealed, a revoked grant marking the destination `needs_reauth` while its conversions
wait, and re-authorisation sending them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fakeoauth import CLIENT_ID, CLIENT_SECRET, FakeGoogle, rsa_key
from firstmark.config import Settings
from firstmark.domain import conversions, oauth
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.goals import Goal
from firstmark.domain.oauth import Urls
from firstmark.forward.tokens import TokenProvider
from firstmark.forward.worker import Forwarder
from firstmark.sealing import Sealer
from firstmark.services import conversions as conversions_service
from firstmark.services import destinations as destinations_service
from firstmark.store import Store

ADS = {"ad_user_data": "granted", "ad_personalization": "granted", "analytics_storage": "granted"}


class Clock:
    def __init__(self) -> None:
        self.now = time.time() + 5  # rows written during the test are due at once

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def google(clock: Clock) -> Any:
    with FakeGoogle(clock) as fake:
        yield fake


@pytest.fixture
def sealers(settings: Settings) -> tuple[Sealer, Sealer]:
    return (
        Sealer(settings.secret_key, "destination-credentials"),
        Sealer(settings.secret_key, "outbox-client"),
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def forwarder(
    store: Store, http: httpx.AsyncClient, sealers: tuple[Sealer, Sealer], google: FakeGoogle,
    clock: Clock,
) -> Forwarder:  # fmt: skip
    tokens = TokenProvider(http, Urls(google_token=google.token_url), clock=clock)
    return Forwarder(
        store, http, credentials=sealers[0], client_data=sealers[1], clock=clock, tokens=tokens
    )


async def google_destination(
    store: Store, sealers: tuple[Sealer, Sealer], google: FakeGoogle, **credentials: str
) -> int:
    await store.insert_goal(Goal(name="purchase"))
    creds = credentials or {
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": "refresh-1",
    }  # fmt: skip
    saved = await destinations_service.create(
        store,
        sealers[0],
        {
            "platform": "google_ads",
            "name": "google",
            "credentials": {"operating_account_id": "123-456-7890", **creds},
            "goals": {"purchase": "555"},
            "endpoint_base": google.url,
        },
        allow_private=True,  # the fake platform listens on loopback
    )
    assert saved.id is not None
    return saved.id


async def convert(store: Store, sealers: tuple[Sealer, Sealer], *event_ids: str) -> None:
    checked = [
        conversions.parse({"event_id": e, "goal": "purchase", "consent": ADS, "value": 5,
                           "currency": "EUR"})
        for e in event_ids
    ]  # fmt: skip
    await conversions_service.record(store, ClickSigner("s"), checked, client_data=sealers[1])


async def stored_refresh_token(store: Store, sealers: tuple[Sealer, Sealer], dest_id: int) -> str:
    dest = await store.get_destination(dest_id)
    assert dest is not None
    return str(sealers[0].open(dest.credentials_sealed)["refresh_token"])


async def test_a_stream_survives_three_expiries_and_a_rotation_delivered_exactly_once(
    any_store: Store, sealers: Any, google: FakeGoogle, clock: Clock, http: httpx.AsyncClient
) -> None:
    store = any_store
    dest_id = await google_destination(store, sealers, google)
    worker = forwarder(store, http, sealers, google, clock)
    sent: list[str] = []
    for round_ in range(8):
        ids = [f"r{round_}-e{n}" for n in range(25)]
        await convert(store, sealers, *ids)
        sent += ids
        if round_ == 3:
            google.rotate_next = True  # the next refresh rotates the refresh token
        await worker.drain()
        clock.now += 1900  # a token lasts 3600 s: it runs out every second round
    assert sorted(google.accepted) == sorted(sent)  # every event, exactly once
    assert len(google.accepted) == len(set(google.accepted)) == 200
    assert google.issued == 4 and google.unauthorised == 0  # refreshed before expiry
    refreshes = [g for g in google.grants if g["grant_type"] == "refresh_token"]
    # Tokens minted at 0 s, 3800 s, 7600 s (rotating) and 11400 s: three ran out.
    assert [g["refresh_token"] for g in refreshes] == ["refresh-1"] * 3 + ["refresh-2-rotated"]
    # The rotated refresh token is stored sealed, and the old one no longer works.
    assert await stored_refresh_token(store, sealers, dest_id) == "refresh-2-rotated"
    dest = await store.get_destination(dest_id)
    assert dest is not None and "refresh-2-rotated" not in dest.credentials_sealed
    assert dest.auth_status == "ok"
    assert (await store.outbox_counts(dest_id))["sent"] == 200


async def test_a_token_revoked_early_is_replaced_once_after_a_401(
    store: Store, sealers: Any, google: FakeGoogle, clock: Clock, http: httpx.AsyncClient
) -> None:
    dest_id = await google_destination(store, sealers, google)
    worker = forwarder(store, http, sealers, google, clock)
    await convert(store, sealers, "a-1")
    await worker.drain()
    google.revoke_access_tokens()  # expired mid-stream, before the time it was given
    await convert(store, sealers, "a-2", "a-3")
    await worker.drain()
    assert google.unauthorised == 1 and google.issued == 2
    assert sorted(google.accepted) == ["a-1", "a-2", "a-3"]
    log = await store.list_deliveries(dest_id)
    assert {d.status for d in log} == {"sent"}


async def test_a_revoked_grant_marks_needs_reauth_and_the_conversions_wait(
    store: Store, sealers: Any, google: FakeGoogle, clock: Clock, http: httpx.AsyncClient
) -> None:
    dest_id = await google_destination(store, sealers, google)
    worker = forwarder(store, http, sealers, google, clock)
    google.refresh_tokens.clear()  # the user revoked firstmark's access
    await convert(store, sealers, "w-1", "w-2")
    await worker.drain()
    dest = await store.get_destination(dest_id)
    assert dest is not None and dest.auth_status == "needs_reauth"
    assert dest.auth_error is not None and "invalid_grant" in dest.auth_error
    assert "refresh-1" not in dest.auth_error
    counts = await store.outbox_counts(dest_id)
    assert counts["dead"] == 0 and counts["retry"] == 2  # waiting, not dead
    # Nothing is claimed while it waits: no more refresh attempts, hour after hour.
    grants = len(google.grants)
    clock.now += 7200
    assert await worker.drain() == 0 and len(google.grants) == grants
    # Re-authorised (a new refresh token pasted): the waiting conversions go out at once.
    google.refresh_tokens.add("refresh-new")
    saved = await destinations_service.connect(store, sealers[0], dest, "refresh-new")
    assert saved.auth_status == "ok" and saved.auth_error is None
    await worker.drain()
    assert sorted(google.accepted) == ["w-1", "w-2"]
    assert (await store.outbox_counts(dest_id))["sent"] == 2


async def test_waiting_conversions_still_die_outside_the_platform_window(
    store: Store, sealers: Any, google: FakeGoogle, clock: Clock, http: httpx.AsyncClient
) -> None:
    dest_id = await google_destination(store, sealers, google)
    worker = forwarder(store, http, sealers, google, clock)
    google.refresh_tokens.clear()
    await convert(store, sealers, "old-1")
    await worker.drain()
    dest = await store.get_destination(dest_id)
    assert dest is not None and dest.auth_status == "needs_reauth"
    clock.now += 91 * 86400  # re-authorised only after Google's 90-day window
    google.refresh_tokens.add("refresh-late")
    await destinations_service.connect(store, sealers[0], dest, "refresh-late")
    await worker.drain()
    assert google.accepted == []
    deliveries = await store.list_deliveries(dest_id)
    assert deliveries[0].status == "dead" and "older than the platform accepts" in str(
        deliveries[0].error
    )


async def test_a_service_account_key_mints_tokens_with_a_signed_jwt(
    store: Store, sealers: Any, google: FakeGoogle, clock: Clock, http: httpx.AsyncClient
) -> None:
    private, key_file = rsa_key()
    google.public_key = private.public_key()
    dest_id = await google_destination(store, sealers, google, service_account_key=key_file)
    worker = forwarder(store, http, sealers, google, clock)
    await convert(store, sealers, "s-1")
    await worker.drain()
    clock.now += 3500  # inside the 5-minute margin: a new token before the old one ends
    await convert(store, sealers, "s-2")
    await worker.drain()
    assert google.accepted == ["s-1", "s-2"] and google.issued == 2
    assert [g["grant_type"] for g in google.grants] == [oauth.JWT_BEARER] * 2
    dest = await store.get_destination(dest_id)
    assert dest is not None and dest.auth_status == "ok"
    shown = (await destinations_service.find(store, dest_id)).credential_fields
    assert "service_account_key" in shown


async def test_a_token_endpoint_that_is_down_is_retried_not_reauthorised(
    store: Store, sealers: Any, clock: Clock, http: httpx.AsyncClient, google: FakeGoogle
) -> None:
    dest_id = await google_destination(store, sealers, google)
    tokens = TokenProvider(http, Urls(google_token="http://127.0.0.1:9/token"), clock=clock)
    worker = Forwarder(
        store, http, credentials=sealers[0], client_data=sealers[1], clock=clock, tokens=tokens
    )
    await convert(store, sealers, "d-1")
    await worker.drain()
    dest = await store.get_destination(dest_id)
    assert dest is not None and dest.auth_status == "ok"
    [delivery] = await store.list_deliveries(dest_id)
    assert delivery.status == "retry" and "token endpoint" in str(delivery.error)


def test_a_service_account_key_is_checked_when_it_is_entered() -> None:
    from firstmark.domain import destinations
    from firstmark.errors import InvalidField

    creds = {"operating_account_id": "1", "service_account_key": '{"type": "user"}'}
    body = {"platform": "google_ads", "name": "g", "goals": {}, "credentials": creds}
    with pytest.raises(InvalidField) as refused:
        destinations.parse(body)
    assert refused.value.field == "credentials.service_account_key"
