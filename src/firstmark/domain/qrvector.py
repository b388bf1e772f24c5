"""PDF and EPS QR codes with a centre logo, written directly from the module matrix.

segno's PDF and EPS writers take no image, so a code with a logo is drawn here: one filled
rectangle per run of dark modules, a light box over the centre, and the logo (a PNG, kept at
its own resolution and scaled by the page) in that box. The geometry is the one the PNG writer
uses, so the PNG tests that decode codes with logos speak for these too.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from firstmark.domain.png import Image

Matrix = Sequence[Sequence[int]]


def dark_runs(matrix: Matrix, box: tuple[int, int]) -> list[tuple[int, int, int]]:
    """(row, first column, length) of each run of dark modules, leaving out the logo box."""
    start, width = box
    end = start + width
    runs: list[tuple[int, int, int]] = []
    for y, row in enumerate(matrix):
        in_rows = start <= y < end
        x = 0
        while x < len(row):
            if row[x] and not (in_rows and start <= x < end):
                first = x
                while x < len(row) and row[x] and not (in_rows and start <= x < end):
                    x += 1
                runs.append((y, first, x - first))
            else:
                x += 1
    return runs


def _placement(size: int, scale: int, box: tuple[int, int]) -> tuple[int, int, int]:
    """(x, y from the bottom, side) of the logo box in points."""
    start, width = box
    return start * scale, size - (start + width) * scale, width * scale


def _fit(side: float, scale: int, image: Image) -> tuple[float, float, float, float]:
    """(x offset, y offset, width, height) of the logo inside its box, half a module in."""
    pad = scale / 2
    inner = side - 2 * pad
    ratio = min(inner / image.width, inner / image.height)
    w, h = image.width * ratio, image.height * ratio
    return pad + (inner - w) / 2, pad + (inner - h) / 2, w, h


def _rgb(colour: bytes) -> str:
    return " ".join(f"{c / 255:.4f}".rstrip("0").rstrip(".") or "0" for c in colour)


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def pdf(
    matrix: Matrix, scale: int, dark: bytes, light: bytes, box: tuple[int, int], image: Image
) -> bytes:
    size = len(matrix) * scale
    bx, by, side = _placement(size, scale, box)
    ox, oy, w, h = _fit(side, scale, image)
    ops = [f"{_rgb(light)} rg 0 0 {size} {size} re f", f"{_rgb(dark)} rg"]
    for y, x, n in dark_runs(matrix, box):
        ops.append(f"{x * scale} {size - (y + 1) * scale} {n * scale} {scale} re f")
    ops.append(f"{_rgb(light)} rg {_num(bx)} {_num(by)} {_num(side)} {_num(side)} re f")
    ops.append(f"q {_num(w)} 0 0 {_num(h)} {_num(bx + ox)} {_num(by + oy)} cm /Logo Do Q")
    content = zlib.compress("\n".join(ops).encode("ascii"))
    rgb = bytearray(image.width * image.height * 3)
    rgb[0::3], rgb[1::3], rgb[2::3] = image.rgba[0::4], image.rgba[1::4], image.rgba[2::4]
    alpha = image.rgba[3::4]
    size_info = f"/Width {image.width} /Height {image.height} /BitsPerComponent 8"
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {size} {size}] "
            "/Resources << /XObject << /Logo 5 0 R >> >> /Contents 4 0 R >>"
        ).encode(),
        _stream("/Filter /FlateDecode", content),
        _stream(
            f"/Type /XObject /Subtype /Image {size_info} /ColorSpace /DeviceRGB "
            "/Filter /FlateDecode /SMask 6 0 R",
            zlib.compress(bytes(rgb)),
        ),
        _stream(
            f"/Type /XObject /Subtype /Image {size_info} /ColorSpace /DeviceGray "
            "/Filter /FlateDecode",
            zlib.compress(alpha),
        ),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def _stream(entries: str, data: bytes) -> bytes:
    return f"<< {entries} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def eps(
    matrix: Matrix, scale: int, dark: bytes, light: bytes, box: tuple[int, int], image: Image
) -> bytes:
    size = len(matrix) * scale
    bx, by, side = _placement(size, scale, box)
    ox, oy, w, h = _fit(side, scale, image)
    lines = [
        "%!PS-Adobe-3.0 EPSF-3.0",
        "%%Creator: firstmark",
        f"%%BoundingBox: 0 0 {size} {size}",
        "%%EndComments",
        f"{_rgb(light)} setrgbcolor 0 0 {size} {size} rectfill",
        f"{_rgb(dark)} setrgbcolor",
    ]
    for y, x, n in dark_runs(matrix, box):
        lines.append(f"{x * scale} {size - (y + 1) * scale} {n * scale} {scale} rectfill")
    lines.append(
        f"{_rgb(light)} setrgbcolor {_num(bx)} {_num(by)} {_num(side)} {_num(side)} rectfill"
    )
    # PostScript images have no alpha: blend the logo over the background first.
    src, back = image.rgba, light
    blended = bytearray(image.width * image.height * 3)
    for i in range(image.width * image.height):
        a = src[i * 4 + 3]
        for c in range(3):
            blended[i * 3 + c] = (src[i * 4 + c] * a + back[c] * (255 - a)) // 255
    hexed = blended.hex()
    lines += [
        "gsave",
        f"{_num(bx + ox)} {_num(by + oy)} translate {_num(w)} {_num(h)} scale",
        f"{image.width} {image.height} 8 [{image.width} 0 0 -{image.height} 0 {image.height}]",
        "currentfile /ASCIIHexDecode filter false 3 colorimage",
        *(hexed[i : i + 78] for i in range(0, len(hexed), 78)),
        ">",
        "grestore",
        "showpage",
        "%%EOF",
    ]
    return ("\n".join(lines) + "\n").encode("ascii")
