"""Just enough PNG to put a logo in the middle of a QR code without an imaging library.

Reads 8-bit, non-interlaced PNGs (grey, grey+alpha, RGB, RGBA, palette) into RGBA rows and
writes 8-bit RGB. Anything else is refused with `PngError`, which the upload turns into a
422 naming the field, so only images we can composite are ever stored.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PIXELS = 4_000_000
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


class PngError(ValueError):
    pass


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    rgba: bytes  # width * height * 4, rows top to bottom


def size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header alone."""
    if not data.startswith(SIGNATURE) or data[12:16] != b"IHDR":
        raise PngError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    pos = len(SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if len(body) != length:
            raise PngError("the PNG is truncated")
        out.append((kind, body))
        pos += 12 + length
        if kind == b"IEND":
            break
    return out


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> bytearray:
    stride = width * bpp
    out = bytearray(stride * height)
    prev = bytearray(stride)
    pos = 0
    for y in range(height):
        if pos + 1 + stride > len(raw):
            raise PngError("the PNG image data is truncated")
        ftype = raw[pos]
        line = bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += 1 + stride
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif ftype == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xFF
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                upleft = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, prev[i], upleft)) & 0xFF
        elif ftype != 0:
            raise PngError(f"unknown PNG filter {ftype}")
        out[y * stride : (y + 1) * stride] = line
        prev = line
    return out


def _inflate(data: bytes, width: int, height: int, bpp: int) -> bytes:
    """The image data inflated, never past what the header says it holds (a filter byte per
    row plus width x channels bytes): a few hundred KB can inflate to gigabytes (a bomb)."""
    expected = height * (1 + width * bpp)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(data, expected + 1)
    except zlib.error as exc:
        raise PngError(f"the PNG image data is damaged: {exc}") from None
    if len(raw) > expected or inflater.unconsumed_tail:
        raise PngError(
            f"the PNG image data inflates past its {width} x {height} pixels (a PNG bomb)"
        )
    return raw


def decode(data: bytes) -> Image:
    width, height = size(data)
    chunks = _chunks(data)
    header = chunks[0][1]
    depth, colour, _, _, interlace = header[8], header[9], header[10], header[11], header[12]
    if depth != 8 or colour not in _CHANNELS:
        raise PngError("only 8-bit PNGs are supported (grey, RGB, RGBA or palette)")
    if interlace:
        raise PngError("interlaced PNGs are not supported; save it without interlacing")
    if not 0 < width * height <= MAX_PIXELS:
        raise PngError(f"the PNG has more than {MAX_PIXELS:,} pixels (width x height)")
    palette = b"".join(body for kind, body in chunks if kind == b"PLTE")
    alpha = b"".join(body for kind, body in chunks if kind == b"tRNS")
    bpp = _CHANNELS[colour]
    raw = _inflate(b"".join(body for kind, body in chunks if kind == b"IDAT"), width, height, bpp)
    px = _unfilter(raw, width, height, bpp)
    rgba = bytearray(width * height * 4)
    if colour == 6:
        rgba[:] = px
    elif colour == 2:
        rgba[0::4], rgba[1::4], rgba[2::4] = px[0::3], px[1::3], px[2::3]
        rgba[3::4] = b"\xff" * (width * height)
    elif colour == 0:
        rgba[0::4] = rgba[1::4] = rgba[2::4] = px
        rgba[3::4] = b"\xff" * (width * height)
    elif colour == 4:
        rgba[0::4] = rgba[1::4] = rgba[2::4] = px[0::2]
        rgba[3::4] = px[1::2]
    else:
        if not palette:
            raise PngError("the palette PNG has no palette")
        table = [
            bytes((*palette[i * 3 : i * 3 + 3], alpha[i] if i < len(alpha) else 255))
            for i in range(len(palette) // 3)
        ]
        try:
            rgba[:] = b"".join(table[i] for i in px)
        except IndexError:
            raise PngError("the PNG uses a colour its palette lacks") from None
    return Image(width, height, bytes(rgba))


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return struct.pack(">I", len(body)) + kind + body + crc


def encode_two_colour(
    matrix: Sequence[Sequence[int]], scale: int, dark: bytes, light: bytes
) -> bytes:
    """A 1-bit palette PNG of a module matrix (quiet zone included), each module scale by scale
    pixels: a fraction of the size and time of an RGB image."""
    size = len(matrix[0]) * scale
    raw = bytearray()
    for row in matrix:
        bits = "".join(("1" if bit else "0") * scale for bit in row)
        bits += "0" * (-len(bits) % 8)
        line = b"\x00" + int(bits, 2).to_bytes(len(bits) // 8, "big")
        raw += line * scale
    header = struct.pack(">IIBBBBB", size, len(matrix) * scale, 1, 3, 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"PLTE", light + dark)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 6))
        + _chunk(b"IEND", b"")
    )


def encode_rgb(width: int, height: int, rows: Sequence[bytes | bytearray]) -> bytes:
    """An 8-bit RGB PNG from `height` rows of `width * 3` bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return (
        SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
