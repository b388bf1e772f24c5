"""QR options, the print check, PNG reading, and rendered codes that a real decoder reads."""

from __future__ import annotations

import io

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from firstmark.domain import png
from firstmark.domain.qr import (
    QrOptions,
    contrast_ratio,
    parse_colour,
    parse_options,
    print_check,
)
from firstmark.domain.qrrender import read_logo, render
from firstmark.errors import InvalidField
from qrtools import (
    decode_png,
    eps_cells,
    matrix_cells,
    pdf_cells,
    rasterise_eps,
    rasterise_pdf,
    svg_cells,
)

URL = "http://fm.test/q/Ab3xY9z"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "gif"}, "format"),
        ({"ec": "X"}, "ec"),
        ({"dark": "black"}, "dark"),
        ({"light": "#12345"}, "light"),
        ({"scale": "0"}, "scale"),
        ({"scale": "101"}, "scale"),
        ({"scale": "2.5"}, "scale"),
        ({"border": "21"}, "border"),
        ({"logo": "x"}, "logo"),
        ({"logo_size": "60"}, "logo_size"),
        ({"print_size_mm": "-3"}, "print_size_mm"),
        ({"scan_distance_mm": "far"}, "scan_distance_mm"),
        ({"size": "10"}, "size"),
    ],
)
def test_bad_options_name_the_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_options(params)
    assert caught.value.field == field


def test_options_defaults_and_normalising() -> None:
    options = parse_options({"format": "PNG", "dark": "1A4", "ec": "q"})
    assert (options.format, options.dark, options.light, options.ec) == (
        "png",
        "#11aa44",
        "#ffffff",
        "Q",
    )
    assert (options.scale, options.border, options.logo) == (10, 4, None)
    assert parse_options({"logo": "3", "ec": "L"}).error_level == "H"


@pytest.mark.parametrize(
    ("one", "other", "ratio"),
    [("#000000", "#ffffff", 21.0), ("#ffffff", "#ffffff", 1.0), ("#777777", "#ffffff", 4.48)],
)
def test_contrast_ratio_follows_wcag(one: str, other: str, ratio: float) -> None:
    assert contrast_ratio(one, other) == pytest.approx(ratio, abs=0.01)
    assert contrast_ratio(other, one) == pytest.approx(ratio, abs=0.01)


def test_parse_colour() -> None:
    assert parse_colour("dark", "#ABC") == "#aabbcc"
    assert parse_colour("dark", " 0a0B0c ") == "#0a0b0c"


def _check(**fields: object) -> dict[str, bool]:
    result = print_check(QrOptions(**fields), 25, "2-M")  # type: ignore[arg-type]
    return {c.name: c.ok for c in result.checks}


def test_print_check_passes_defaults_and_flags_each_problem() -> None:
    assert _check() == {"quiet_zone": True, "contrast": True, "polarity": True}
    assert _check(border=2)["quiet_zone"] is False
    assert _check(dark="#888888")["contrast"] is False
    assert _check(dark="#ffffff", light="#000000")["polarity"] is False
    assert _check(logo=1, logo_size=20)["logo_area"] is True  # 4 % under H's 15 %
    assert _check(logo=1, logo_size=40)["logo_area"] is False  # 16 %
    # 25 modules + 8 of quiet zone over 33 mm: 1 mm modules; over 10 mm: 0.3 mm.
    assert _check(print_size_mm=33)["module_size"] is True
    assert _check(print_size_mm=10)["module_size"] is False
    # Scanned from 2 m, the symbol must be about 200 mm wide.
    assert _check(print_size_mm=264, scan_distance_mm=2000)["scan_distance"] is True
    assert _check(print_size_mm=100, scan_distance_mm=2000)["scan_distance"] is False


def test_print_check_numbers() -> None:
    result = print_check(QrOptions(print_size_mm=66, scan_distance_mm=1500), 25, "2-M")
    by_name = {c.name: c for c in result.checks}
    assert by_name["module_size"].value == 2.0
    assert by_name["scan_distance"].limit == 150.0
    assert by_name["scan_distance"].value == 50.0
    assert result.header() == "warn; scan_distance"
    assert result.to_json()["warnings"] == ["scan_distance"]


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P"])
def test_png_reader_matches_pillow(mode: str) -> None:
    source = Image.new("RGBA", (23, 17))
    pixels = [
        (x * 11 % 256, y * 15 % 256, x * y % 256, 255 - x * 5) for y in range(17) for x in range(23)
    ]
    source.putdata(pixels)
    image = source.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    decoded = png.decode(buffer.getvalue())
    assert (decoded.width, decoded.height) == (23, 17)
    assert decoded.rgba == image.convert("RGBA").tobytes()


def test_png_writer_round_trips() -> None:
    rows = [bytes([x, y, 7] * 1) * 1 for y in range(3) for x in range(1)]
    data = png.encode_rgb(1, 3, rows)
    assert Image.open(io.BytesIO(data)).convert("RGB").tobytes() == b"".join(rows)


@pytest.mark.parametrize("ec", ["L", "M", "Q", "H"])
@pytest.mark.parametrize(
    ("dark", "light", "border"),
    [("#000000", "#ffffff", 4), ("#1d3557", "#f1faee", 2), ("#6a040f", "#ffffff", 10)],
)
def test_every_png_decodes_to_the_url(ec: str, dark: str, light: str, border: int) -> None:
    options = parse_options(
        {
            "format": "png",
            "ec": ec,
            "dark": dark,
            "light": light,
            "border": str(border),
            "scale": "4",
        }
    )
    rendered = render(URL, options)
    assert rendered.media_type == "image/png"
    assert decode_png(rendered.body) == [URL]


def _logo_png(size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGBA", size, (220, 30, 30, 255))
    for x in range(size[0]):
        image.putpixel((x, size[1] // 2), (0, 0, 0, 0))  # a transparent stripe
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("logo_size", [10, 20, 25])
def test_png_with_a_logo_still_decodes_at_level_h(logo_size: int) -> None:
    logo = read_logo(_logo_png())
    options = parse_options(
        {"format": "png", "logo": "1", "logo_size": str(logo_size), "scale": "6"}
    )
    rendered = render(URL, options, logo)
    assert rendered.check.version.endswith("-H")
    assert decode_png(rendered.body) == [URL]
    plain = render(URL, parse_options({"format": "png", "ec": "H", "scale": "6"}))
    # The logo really is there: the centre pixels are the logo's red.
    image = Image.open(io.BytesIO(rendered.body)).convert("RGB")
    centre = image.getpixel((image.width // 2, image.height // 2 - 3))
    assert centre == (220, 30, 30)
    assert rendered.body != plain.body


@pytest.mark.parametrize("border", [0, 4])
def test_svg_pdf_eps_carry_the_same_module_matrix(border: int) -> None:
    qr = segno.make(URL, error="m", micro=False, boost_error=False)
    want = {(y + border, x + border) for y, x in matrix_cells(qr.matrix)}
    base = {"scale": "1", "border": str(border)}
    svg = render(URL, parse_options({**base, "format": "svg"})).body
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    assert svg_cells(svg) == want
    pdf = render(URL, parse_options({**base, "format": "pdf"})).body
    assert pdf_cells(pdf) == want
    eps = render(URL, parse_options({**base, "format": "eps"})).body
    assert eps_cells(eps.decode("ascii")) == want


def test_svg_with_a_logo_embeds_it_over_a_light_box() -> None:
    from xml.etree import ElementTree

    logo = read_logo(
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        b'<circle r="4" cx="5" cy="5"/></svg>'
    )
    rendered = render(URL, parse_options({"format": "svg", "logo": "1"}), logo)
    root = ElementTree.fromstring(rendered.body)
    images = root.findall("{http://www.w3.org/2000/svg}image")
    assert len(images) == 1
    assert images[0].attrib["href"].startswith("data:image/svg+xml;base64,")
    assert rendered.check.version.endswith("-H")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a....", "invalid_image"),
        (b"", "required"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "invalid_image"),
        (b"<svg><unclosed></svg>", "invalid_image"),
        (b"x" * (512 * 1024 + 1), "too_large"),
    ],
)
def test_bad_logos_are_refused(data: bytes, code: str) -> None:
    with pytest.raises(InvalidField) as caught:
        read_logo(data)
    assert (caught.value.field, caught.value.code) == ("logo", code)


def test_logo_formats_and_size_caps() -> None:
    svg_logo = read_logo(b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    with pytest.raises(InvalidField, match="PNG logo"):
        render(URL, parse_options({"format": "png", "logo": "1"}), svg_logo)
    with pytest.raises(InvalidField, match="PDF output takes a PNG logo"):
        render(URL, parse_options({"format": "pdf", "logo": "1"}), svg_logo)
    with pytest.raises(InvalidField) as caught:
        render(URL, parse_options({"format": "png", "scale": "100", "border": "20"}))
    assert caught.value.field == "scale"
    assert render(URL, parse_options({"format": "png", "scale": "80"})).pixels <= 4000


@pytest.mark.parametrize("fmt", ["pdf", "eps"])
@pytest.mark.parametrize("logo_size", [15, 25])
def test_pdf_and_eps_with_a_logo_decode_once_rasterised(fmt: str, logo_size: int) -> None:
    logo = read_logo(_logo_png((50, 30)))
    options = parse_options({"format": fmt, "logo": "1", "logo_size": str(logo_size), "scale": "6"})
    rendered = render(URL, options, logo)
    assert rendered.check.version.endswith("-H")
    if fmt == "pdf":
        assert rendered.media_type == "application/pdf"
        picture = rasterise_pdf(rendered.body)
    else:
        picture = rasterise_eps(rendered.body.decode("ascii"))
    assert decode_png(picture) == [URL]
    image = Image.open(io.BytesIO(picture)).convert("RGB")
    assert image.getpixel((image.width // 2, image.height // 2 - 4)) == (220, 30, 30)


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 40),
    height=st.integers(1, 40),
    mode=st.sampled_from(["RGB", "RGBA", "L", "LA", "P"]),
    seed=st.integers(0, 2**16),
)
def test_png_reader_matches_pillow_for_any_image(
    width: int, height: int, mode: str, seed: int
) -> None:
    pixels = [
        ((seed + x * 37) % 256, (seed * 3 + y * 11) % 256, (x ^ y) % 256, (seed + x + y) % 256)
        for y in range(height)
        for x in range(width)
    ]
    source = Image.new("RGBA", (width, height))
    source.putdata(pixels)
    image = source.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    assert png.decode(buffer.getvalue()).rgba == image.convert("RGBA").tobytes()
