"""The retry policy and the sealing of secrets, as pure functions."""

from __future__ import annotations

import pytest

from firstmark.forward import outbox
from firstmark.forward.adapters.base import Outcome, retryable_status
from firstmark.sealing import Sealer, Unsealable


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [(1, 8, 12), (2, 16, 24), (3, 32, 48), (12, 16384, 21600), (13, 21600, 21600)],
)
@pytest.mark.parametrize("dice", [0.0, 0.5, 0.999])
def test_backoff_doubles_with_jitter_and_never_passes_six_hours(
    attempts: int, low: float, high: float, dice: float
) -> None:
    assert low <= outbox.backoff(attempts, lambda: dice) <= high


def test_backoff_spreads_rows_that_failed_together() -> None:
    assert outbox.backoff(1, lambda: 0.0) != outbox.backoff(1, lambda: 0.99)


@pytest.mark.parametrize(
    ("outcome", "attempts", "status", "delay"),
    [
        (Outcome("sent"), 1, "sent", None),
        (Outcome("dead", "HTTP 400: bad"), 1, "dead", None),
        (Outcome("retry", "HTTP 429", retry_after=90), 1, "retry", 90),
        (Outcome("retry", "HTTP 429", retry_after=10**6), 1, "retry", outbox.MAX_DELAY_S),
        (Outcome("retry", "HTTP 503"), 2, "retry", 20),
        (Outcome("retry", "HTTP 503"), 12, "dead", None),
    ],
)
def test_decide(outcome: Outcome, attempts: int, status: str, delay: float | None) -> None:
    attempt = outbox.decide(7, attempts, outcome, 1000.0, http_status=503, dice=lambda: 0.5)
    assert attempt.status == status and attempt.outbox_id == 7
    if delay is None:
        assert attempt.next_attempt_at is None
    else:
        assert attempt.next_attempt_at == pytest.approx(1000.0 + delay)
    if status == "dead" and outcome.status == "retry":
        assert attempt.error == "gave up after 12 attempts: HTTP 503"


@pytest.mark.parametrize(
    ("status", "transient"),
    [(408, True), (423, True), (429, True), (500, True), (502, True), (599, True),
     (501, False), (400, False), (401, False), (403, False), (404, False), (422, False)],
)  # fmt: skip
def test_which_statuses_are_transient(status: int, transient: bool) -> None:
    assert retryable_status(status) is transient


def test_age_windows() -> None:
    # An hour in hand: a batch built at the edge of Meta's 7 days arrives after it.
    assert outbox.too_old(0, 7 * 86400 - 3599, 7 * 86400)
    assert not outbox.too_old(0, 7 * 86400 - 3600, 7 * 86400)
    assert outbox.too_old(0, 3 * 3600 - 1079, 3 * 3600)  # a tenth of a short window
    assert outbox.age_message(72 * 3600) == "older than the platform accepts (3 days); not sent"
    assert "(12 hours)" in outbox.age_message(12 * 3600)


def test_sealed_values_open_only_with_the_same_secret_and_purpose() -> None:
    sealer = Sealer("secret-1", "destination-credentials")
    sealed = sealer.seal({"access_token": "EAAB-token"})
    assert "EAAB" not in sealed and sealed != sealer.seal({"access_token": "EAAB-token"})
    assert sealer.open(sealed) == {"access_token": "EAAB-token"}
    for other in (Sealer("secret-2", "destination-credentials"), Sealer("secret-1", "client")):
        with pytest.raises(Unsealable):
            other.open(sealed)
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(Unsealable):
        sealer.open(tampered)
