"""The retry policy: what becomes of an outbox row after one attempt.

As Segment does it: transport errors, timeouts, 408, 423, 429 and 5xx except 501 are
transient and retried with exponential backoff and jitter (10 s doubling to at most 6 h, at
most 12 attempts), honouring a Retry-After the platform sends; anything else is permanent and
the row is dead with the platform's message. Events outside a platform's age window die
before sending, so one stale event never sinks a batch; the window keeps MARGIN_S (an hour) in
hand, because a batch built at the edge arrives after it (Meta refuses a whole batch for one
event a second too old). Pure: no IO, the clock and the dice
are passed in.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from firstmark.domain.destinations import Attempt
from firstmark.forward.adapters.base import Outcome

BASE_DELAY_S = 10.0
MAX_DELAY_S = 6 * 3600.0
MAX_ATTEMPTS = 12
MARGIN_S = 3600.0  # every platform window is used up to an hour short of its end
JITTER = 0.2  # ± a fifth, so rows failed together do not come back together


def backoff(
    attempts: int, dice: Callable[[], float] = random.random, base_s: float = BASE_DELAY_S
) -> float:
    """Seconds before attempt `attempts + 1`: 10 s · 2^(attempts - 1) ± 20 %, at most 6 h."""
    delay: float = base_s * 2.0 ** max(0, attempts - 1)
    return min(MAX_DELAY_S, delay * (1 - JITTER + 2 * JITTER * dice()))


def decide(
    outbox_id: int,
    attempts: int,
    outcome: Outcome,
    now: float,
    *,
    http_status: int | None = None,
    latency_ms: float | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    dice: Callable[[], float] = random.random,
    base_s: float = BASE_DELAY_S,
) -> Attempt:
    """The row's next state. `attempts` counts this one."""
    if outcome.status == "sent":
        return Attempt(outbox_id, "sent", None, http_status, None, latency_ms)
    if outcome.status == "dead":
        return Attempt(outbox_id, "dead", None, http_status, outcome.message, latency_ms)
    if attempts >= max_attempts:
        message = f"gave up after {attempts} attempts: {outcome.message}"
        return Attempt(outbox_id, "dead", None, http_status, message, latency_ms)
    delay = (
        min(MAX_DELAY_S, outcome.retry_after)
        if outcome.retry_after is not None
        else backoff(attempts, dice, base_s)
    )
    return Attempt(outbox_id, "retry", now + delay, http_status, outcome.message, latency_ms)


def too_old(ts: float, now: float, max_age_s: float, margin_s: float = MARGIN_S) -> bool:
    """Past the platform's window less the margin (at most a tenth of short windows)."""
    return now - ts > max_age_s - min(margin_s, max_age_s / 10)


def age_message(max_age_s: float) -> str:
    days = max_age_s / 86400
    window = f"{days:g} days" if days >= 1 else f"{max_age_s / 3600:g} hours"
    return f"older than the platform accepts ({window}); not sent"
