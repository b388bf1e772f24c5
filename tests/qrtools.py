"""Reading rendered QR codes back: zxing-cpp for pixels, tiny tracers for SVG, PDF and EPS."""

from __future__ import annotations

import io
import re
import struct
import zlib

import zxingcpp
from PIL import Image

Cells = set[tuple[int, int]]  # (row, column) of each dark module


def png_bomb(width: int, height: int, inflated: int) -> bytes:
    """An RGBA PNG header for width x height whose IDAT inflates to `inflated` zero bytes."""
    squeeze = zlib.compressobj(9)
    block = bytes(2**20)
    idat = b"".join(squeeze.compress(block) for _ in range(inflated // len(block)))
    idat += squeeze.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def decode_png(data: bytes) -> list[str]:
    """Texts of every QR code zxing-cpp finds in the image."""
    image = Image.open(io.BytesIO(data))
    image.load()
    found = zxingcpp.read_barcodes(image)
    return [r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode]


def matrix_cells(matrix: tuple[bytearray, ...] | list[bytearray]) -> Cells:
    return {(y, x) for y, row in enumerate(matrix) for x, bit in enumerate(row) if bit}


def _runs(cells: Cells, row: int, start: float, end: float) -> None:
    for x in range(round(start), round(end)):
        cells.add((row, x))


def svg_cells(svg: bytes) -> Cells:
    """Dark modules of a segno SVG drawn at scale 1: M x y, then m dx dy / h n steps."""
    path = re.search(rb'<path class="qrline"[^>]* d="([^"]+)"', svg)
    assert path is not None, "no path in the SVG"
    cells: Cells = set()
    x = y = 0.0
    for op, a, b in re.findall(rb"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path[1]):
        if op == b"M":
            x, y = float(a), float(b)
        elif op == b"m":
            x, y = x + float(a), y + float(b)
        else:
            _runs(cells, int(y), x, x + float(a))
            x += float(a)
    return cells


def pdf_cells(pdf: bytes) -> Cells:
    """Dark modules of a segno PDF at scale 1: '1 0 0 1 0 top cm' then 'x y m x2 y l' pairs."""
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    start = pdf.index(b"stream\r\n") + 8
    # segno ends the stream with exactly "\r\nendstream"; stripping more would cut into the
    # compressed bytes whenever they happen to end in \r or \n.
    content = zlib.decompress(pdf[start : pdf.index(b"\r\nendstream")]).decode()
    height = float(re.search(rb"/MediaBox \[0 0 [\d.]+ ([\d.]+)\]", pdf)[1])  # type: ignore[index]
    shift = re.search(r"1 0 0 1 (-?[\d.]+) (-?[\d.]+) cm", content)
    tx, ty = (float(shift[1]), float(shift[2])) if shift else (0.0, 0.0)
    cells: Cells = set()
    pairs = r"(-?[\d.]+)\s+(-?[\d.]+)\s+m\s+(-?[\d.]+)\s+(-?[\d.]+)\s+l"
    for x1, y1, x2, _ in re.findall(pairs, content):
        _runs(cells, round(height - 0.5 - (ty + float(y1))), tx + float(x1), tx + float(x2))
    return cells


def eps_cells(eps: str) -> Cells:
    """Dark modules of a segno EPS at scale 1: 'x y moveto', then relative m/l steps."""
    assert eps.startswith("%!PS-Adobe-3.0 EPSF-3.0")
    assert "%%BoundingBox:" in eps and eps.rstrip().endswith("%%EOF")
    found = re.search(r"(-?[\d.]+) (-?[\d.]+) moveto", eps)
    assert found is not None
    box = re.search(r"%%BoundingBox: 0 0 [\d.]+ ([\d.]+)", eps)
    assert box is not None
    height = float(box[1])
    x, y = float(found[1]), float(found[2])
    cells: Cells = set()
    body = eps[found.end() :]
    for dx, dy, op in re.findall(r"(-?[\d.]+)\s+(-?[\d.]+)\s+([ml])\b", body):
        if op == "m":
            x, y = x + float(dx), y + float(dy)
        else:
            _runs(cells, round(height - 0.5 - y), x, x + float(dx))
            x += float(dx)
    return cells


# --- rasterising the PDF and EPS files firstmark writes for codes with a logo ----------------
# A tiny renderer for the few operators those files use (filled rectangles in RGB, one image
# placed by a scale + translate), so a real decoder can read them as a printer would.


def _colour(values: list[str]) -> tuple[int, int, int]:
    r, g, b = (round(float(v) * 255) for v in values)
    return r, g, b


def _paint(
    size: int,
    rects: list[tuple[tuple[int, int, int], float, float, float, float]],
    image: tuple[Image.Image, float, float, float, float] | None,
) -> bytes:
    canvas = Image.new("RGB", (size, size))
    for colour, x, y, w, h in rects:
        top = size - (y + h)  # PDF and PostScript count y from the bottom
        canvas.paste(colour, (round(x), round(top), round(x + w), round(top + h)))
    if image is not None:
        logo, x, y, w, h = image
        placed = logo.convert("RGBA").resize((max(1, round(w)), max(1, round(h))))
        canvas.paste(placed, (round(x), round(size - (y + h))), placed)
    out = io.BytesIO()
    canvas.save(out, "PNG")
    return out.getvalue()


def _pdf_objects(pdf: bytes) -> dict[int, tuple[bytes, bytes]]:
    """Object number → (dictionary, decoded stream) for every stream object."""
    found: dict[int, tuple[bytes, bytes]] = {}
    for match in re.finditer(rb"(\d+) 0 obj\n(<<.*?>>)\nstream\n", pdf, re.S):
        length = int(re.search(rb"/Length (\d+)", match[2])[1])  # type: ignore[index]
        data = pdf[match.end() : match.end() + length]
        found[int(match[1])] = (match[2], zlib.decompress(data))
    return found


def rasterise_pdf(pdf: bytes) -> bytes:
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    size = int(float(re.search(rb"/MediaBox \[0 0 ([\d.]+)", pdf)[1]))  # type: ignore[index]
    objects = _pdf_objects(pdf)
    content = next(d for head, d in objects.values() if b"/Subtype /Image" not in head).decode()
    rects = []
    colour = (0, 0, 0)
    image = None
    for line in content.splitlines():
        words = line.split()
        if "rg" in words:
            colour = _colour(words[words.index("rg") - 3 : words.index("rg")])
            words = words[words.index("rg") + 1 :]
        if words[-2:] == ["re", "f"]:
            x, y, w, h = (float(v) for v in words[-6:-2])
            rects.append((colour, x, y, w, h))
        if words[-2:] == ["Do", "Q"]:
            w, _, _, h, x, y = (float(v) for v in words[1:7])
            head, rgb = next((h2, d) for h2, d in objects.values() if b"/SMask" in h2)
            _, alpha = next((h2, d) for h2, d in objects.values() if b"/DeviceGray" in h2)
            width = int(re.search(rb"/Width (\d+)", head)[1])  # type: ignore[index]
            height = int(re.search(rb"/Height (\d+)", head)[1])  # type: ignore[index]
            logo = Image.frombytes("RGB", (width, height), rgb)
            logo.putalpha(Image.frombytes("L", (width, height), alpha))
            image = (logo, x, y, w, h)
    return _paint(size, rects, image)


def rasterise_eps(eps: str) -> bytes:
    assert eps.startswith("%!PS-Adobe-3.0 EPSF-3.0") and eps.rstrip().endswith("%%EOF")
    size = int(re.search(r"%%BoundingBox: 0 0 (\d+)", eps)[1])  # type: ignore[index]
    rects = []
    colour = (0, 0, 0)
    image = None
    lines = eps.splitlines()
    for index, line in enumerate(lines):
        words = line.split()
        if "setrgbcolor" in words:
            at = words.index("setrgbcolor")
            colour = _colour(words[at - 3 : at])
            words = words[at + 1 :]
        if words and words[-1] == "rectfill":
            x, y, w, h = (float(v) for v in words[-5:-1])
            rects.append((colour, x, y, w, h))
        if "translate" in words and "scale" in words:
            left, bottom, _, wide, high, _ = words
            width, height = (int(v) for v in lines[index + 1].split()[:2])
            end = lines.index(">", index)
            data = bytes.fromhex("".join(lines[index + 3 : end]))
            logo = Image.frombytes("RGB", (width, height), data)
            image = (logo, float(left), float(bottom), float(wide), float(high))
    return _paint(size, rects, image)


def slow_logo(side: int = 1000) -> bytes:
    """An RGB PNG of side x side whose rows use the Sub filter: about 4 KB on disk, seconds
    of pure-Python decoding."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        return struct.pack(">I", len(body)) + kind + body + crc

    row = b"\x01" + bytes([200, 30, 30]) + bytes([1, 2, 3]) * (side - 1)
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * side, 9))
        + chunk(b"IEND", b"")
    )
