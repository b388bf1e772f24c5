"""Reading rendered QR codes back: zxing-cpp for pixels, tiny tracers for SVG, PDF and EPS."""

from __future__ import annotations

import io
import re
import zlib

import zxingcpp
from PIL import Image

Cells = set[tuple[int, int]]  # (row, column) of each dark module


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
    content = zlib.decompress(pdf[start : pdf.index(b"endstream")].rstrip(b"\r\n")).decode()
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
