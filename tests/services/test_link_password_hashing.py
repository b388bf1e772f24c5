"""A link's password is hashed off the event loop, on create and on edit, and still opens it."""

from __future__ import annotations

import threading

import pytest

from firstmark.domain import passwords
from firstmark.domain.links import LinkPolicy
from firstmark.services import links as links_service
from firstmark.store import Store


async def test_passwords_are_hashed_on_a_worker_thread_and_checked_against_the_hash(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []

    def spy(value: str) -> str:
        threads.append(threading.current_thread().name)
        return passwords.hash_password(value)

    monkeypatch.setattr(links_service, "hash_password", spy)
    loop_thread = threading.current_thread().name
    body = {"destination": "https://example.com/a", "code": "locked", "password": "open sesame"}
    created = await links_service.create_link(any_store, LinkPolicy(), body)
    assert created.password is None  # the plain text goes nowhere past the hash
    stored = await links_service.get_link(any_store, created.link.id or 0)
    assert stored.password_hash and passwords.check_password("open sesame", stored.password_hash)
    edited = await links_service.update_link(
        any_store, LinkPolicy(), stored.id or 0, {"password": "new words"}
    )
    assert edited.link.password_hash and passwords.check_password(
        "new words", edited.link.password_hash
    )
    assert len(threads) == 2 and loop_thread not in threads
    cleared = await links_service.update_link(
        any_store, LinkPolicy(), stored.id or 0, {"password": None}
    )
    assert cleared.link.password_hash is None
    kept = await links_service.update_link(any_store, LinkPolicy(), stored.id or 0, {"tags": ["x"]})
    assert kept.link.password_hash is None and len(threads) == 2
