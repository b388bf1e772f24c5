"""The CPU worker pool: work runs off the event loop, at most `size` at once, at most `queue`
waiting, errors come back as raised, and past the queue a request is refused (503)."""

from __future__ import annotations

import asyncio
import hashlib
import time

import pytest

from firstmark.domain.png import PngError, decode, encode_rgb
from firstmark.domain.qrrender import read_logo
from firstmark.errors import Busy, InvalidField
from firstmark.services.workers import Workers


def _slow(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


async def test_thread_work_is_bounded_and_the_queue_refuses_beyond_it() -> None:
    workers = Workers(size=2, queue=3)
    loop_ticks = 0

    async def ticker() -> None:
        nonlocal loop_ticks
        while True:
            await asyncio.sleep(0.005)
            loop_ticks += 1

    tick = asyncio.create_task(ticker())
    jobs = [asyncio.create_task(workers.thread(_slow, 0.2)) for _ in range(5)]
    await asyncio.sleep(0.05)
    assert (workers.running, workers.waiting) == (2, 3)
    with pytest.raises(Busy):
        await workers.thread(_slow, 0.01)
    assert await asyncio.gather(*jobs) == [0.2] * 5
    tick.cancel()
    assert workers.refused == 1 and workers.done == 5 and workers.running == 0
    assert loop_ticks > 40  # the loop kept turning through ~0.6 s of work
    workers.close()


async def test_process_work_returns_results_and_errors_as_raised() -> None:
    workers = Workers(size=1, queue=4)
    data = encode_rgb(2, 1, [bytes([1, 2, 3, 4, 5, 6])])
    logo = await workers.process(read_logo, data)
    assert (logo.media_type, logo.width, logo.height) == ("image/png", 2, 1)
    assert logo.sha256 == hashlib.sha256(data).hexdigest()
    with pytest.raises(InvalidField) as raised:
        await workers.process(read_logo, b"not an image")
    assert raised.value.field == "logo" and raised.value.status == 422
    with pytest.raises(PngError):
        await workers.process(decode, b"\x89PNG\r\n\x1a\n")
    workers.close()
