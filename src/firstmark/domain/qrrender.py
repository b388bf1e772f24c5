"""Rendering a short URL as a QR code with segno, with an optional centre logo.

segno draws every format. A logo is placed on a light box over the centre of the symbol at
error level H: as an embedded image in SVG, composited pixel by pixel in PNG (domain/png.py, no
imaging library), and drawn with the modules in PDF and EPS (domain/qrvector.py).
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from xml.etree import ElementTree

import segno

from firstmark.domain import png, qrvector
from firstmark.domain.qr import FORMATS, MAX_BYTES, MAX_PIXELS, PrintCheck, QrOptions, print_check
from firstmark.errors import InvalidField

MAX_LOGO_BYTES = 512 * 1024
LOGO_TYPES = ("image/png", "image/svg+xml")


@dataclass(frozen=True)
class Logo:
    media_type: str
    data: bytes
    width: int
    height: int
    sha256: str
    id: int | None = None


@dataclass(frozen=True)
class Rendered:
    body: bytes
    media_type: str
    check: PrintCheck
    pixels: int  # width (= height) of the image in pixels (points for PDF/EPS)


def read_logo(data: bytes, media_type: str | None = None) -> Logo:
    """A logo upload checked to be a PNG or SVG we can place, at most 512 KB."""
    if len(data) > MAX_LOGO_BYTES:
        raise InvalidField("logo", "the logo must be at most 512 KB", code="too_large")
    if not data:
        raise InvalidField("logo", "the logo is empty", code="required")
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(png.SIGNATURE):
        try:
            image = png.decode(data)
        except png.PngError as exc:
            raise InvalidField(
                "logo", f"the logo cannot be read: {exc}", code="invalid_image"
            ) from None
        return Logo("image/png", data, image.width, image.height, digest)
    head = data[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--")):
        if b"<!doctype" in data.lower() or b"<!entity" in data.lower():
            raise InvalidField("logo", "SVG logos may not declare a DOCTYPE or entities")
        try:
            root = ElementTree.fromstring(data)
        except ElementTree.ParseError as exc:
            raise InvalidField(
                "logo", f"the SVG logo is not well-formed: {exc}", code="invalid_image"
            ) from None
        if root.tag not in ("svg", "{http://www.w3.org/2000/svg}svg"):
            raise InvalidField("logo", "the SVG logo's root element is not <svg>")
        return Logo("image/svg+xml", data, 0, 0, digest)
    raise InvalidField("logo", "the logo must be a PNG or SVG image", code="invalid_image")


def make(url: str, error: str) -> segno.QRCode:
    return segno.make(url, error=error.lower(), micro=False, boost_error=False)


def _box(modules: int, options: QrOptions) -> tuple[int, int]:
    """(first module, width in modules) of the square the logo covers, centred on the grid."""
    width = max(1, round(modules * options.logo_size / 100))
    if (modules - width) % 2:
        width += 1
    return options.border + (modules - width) // 2, width


def render(url: str, options: QrOptions, logo: Logo | None = None) -> Rendered:
    """The code for `url` in `options.format`; InvalidField names what makes it too big."""
    qr = make(url, options.error_level)
    modules = int(qr.symbol_size(scale=1, border=0)[0])
    pixels = (modules + 2 * options.border) * options.scale
    if pixels > MAX_PIXELS:
        most = MAX_PIXELS // (modules + 2 * options.border)
        raise InvalidField(
            "scale",
            f"the code would be {pixels} px wide; at most {MAX_PIXELS} px (scale ≤ {most})",
            code="too_large",
        )
    if logo is not None and options.format != "svg" and logo.media_type != "image/png":
        raise InvalidField(
            "logo",
            f"{options.format.upper()} output takes a PNG logo; an SVG logo needs SVG output",
        )
    check = print_check(options, modules, qr.designator)
    colours = {"dark": options.dark, "light": options.light}
    if logo is not None and options.format in ("pdf", "eps"):
        matrix = [list(row) for row in qr.matrix_iter(scale=1, border=options.border)]
        write = qrvector.pdf if options.format == "pdf" else qrvector.eps
        body = write(
            matrix,
            options.scale,
            _rgb(options.dark),
            _rgb(options.light),
            _box(modules, options),
            png.decode(logo.data),
        )
    elif options.format == "eps":
        text = io.StringIO()
        qr.save(text, kind="eps", scale=options.scale, border=options.border, **colours)
        body = text.getvalue().encode("ascii")
    elif logo is not None and options.format == "png":
        body = _png_with_logo(qr, options, logo)
    elif options.format == "png":
        matrix = [list(row) for row in qr.matrix_iter(scale=1, border=options.border)]
        body = png.encode_two_colour(matrix, options.scale, _rgb(options.dark), _rgb(options.light))
    else:
        out = io.BytesIO()
        qr.save(out, kind=options.format, scale=options.scale, border=options.border, **colours)
        body = out.getvalue()
        if logo is not None:
            body = _svg_with_logo(body, modules, options, logo)
    if len(body) > MAX_BYTES:
        raise InvalidField("scale", "the file would be larger than 2 MB", code="too_large")
    return Rendered(body, FORMATS[options.format], check, pixels)


def _svg_with_logo(svg: bytes, modules: int, options: QrOptions, logo: Logo) -> bytes:
    start, width = _box(modules, options)
    s = options.scale
    x = y = start * s
    size = width * s
    pad = s // 2
    href = f"data:{logo.media_type};base64,{base64.b64encode(logo.data).decode('ascii')}"
    extra = (
        f'<rect x="{x}" y="{y}" width="{size}" height="{size}" fill="{options.light}"/>'
        f'<image x="{x + pad}" y="{y + pad}" width="{size - 2 * pad}" '
        f'height="{size - 2 * pad}" preserveAspectRatio="xMidYMid meet" href="{href}"/>'
    )
    at = svg.rindex(b"</svg>")
    return svg[:at] + extra.encode("ascii") + svg[at:]


def _rgb(colour: str) -> bytes:
    return bytes(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def _png_with_logo(qr: segno.QRCode, options: QrOptions, logo: Logo) -> bytes:
    scale, border = options.scale, options.border
    dark, light = _rgb(options.dark), _rgb(options.light)
    rows: list[bytes | bytearray] = []
    for row in qr.matrix_iter(scale=1, border=border):
        line = b"".join((dark if bit else light) * scale for bit in row)
        rows.extend([line] * scale)
    modules = int(qr.symbol_size(scale=1, border=0)[0])
    start, width = _box(modules, options)
    image = png.decode(logo.data)
    box = width * scale
    x0 = start * scale
    # The whole box turns light, then the logo, scaled to fit with a half-module margin and
    # its proportions kept, is blended over it (nearest neighbour: logos are flat graphics).
    pad = scale // 2
    inner = box - 2 * pad
    ratio = min(inner / image.width, inner / image.height)
    w, h = max(1, int(image.width * ratio)), max(1, int(image.height * ratio))
    ox, oy = x0 + pad + (inner - w) // 2, x0 + pad + (inner - h) // 2
    src = image.rgba
    for y in range(x0, x0 + box):
        out = bytearray(rows[y])  # a copy: rows repeat the same bytes object
        out[x0 * 3 : (x0 + box) * 3] = light * box
        if oy <= y < oy + h:
            sy = min(image.height - 1, int((y - oy) / ratio))
            base = sy * image.width * 4
            for x in range(w):
                sx = min(image.width - 1, int(x / ratio))
                p = base + sx * 4
                a = src[p + 3]
                if a == 0:
                    continue
                at = (ox + x) * 3
                for c in range(3):
                    out[at + c] = (src[p + c] * a + out[at + c] * (255 - a)) // 255
        rows[y] = out
    size = len(rows)
    return png.encode_rgb(size, size, rows)
