"""The PNG reader inflates no more than the header announces: a bomb is refused with little
memory, before it is ever expanded."""

from __future__ import annotations

import tracemalloc

import pytest

from firstmark.domain import png
from qrtools import png_bomb as bomb


def test_a_png_bomb_is_refused_without_inflating_it() -> None:
    data = bomb(100, 100, 200 * 2**20)  # 40 KB of pixels announced, 200 MB inside
    assert len(data) < 512 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(png.PngError, match="bomb"):
            png.decode(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20, f"decoding peaked at {peak / 2**20:.0f} MB"


def test_too_many_pixels_is_refused_from_the_header() -> None:
    with pytest.raises(png.PngError, match="4,000,000 pixels"):
        png.decode(bomb(2001, 2000, 0))


def test_exact_image_data_still_decodes() -> None:
    rows = [bytes([10, 20, 30]) * 3 for _ in range(2)]
    image = png.decode(png.encode_rgb(3, 2, rows))
    assert (image.width, image.height) == (3, 2)
    assert image.rgba[:4] == bytes([10, 20, 30, 255])
