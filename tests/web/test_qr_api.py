"""QR codes through the API: render, print check, logos, and scans counted as scans."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from agents import IPHONE
from firstmark.store import Store
from qrtools import decode_png, png_bomb


async def _link(client: httpx.AsyncClient, code: str = "poster") -> dict[str, Any]:
    r = await client.post(
        "/api/v1/links", json={"destination": "https://shop.example/spring", "code": code}
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _png(colour: tuple[int, int, int, int] = (200, 20, 20, 255)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 40), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "params",
    [
        {"format": "png"},
        {"format": "png", "ec": "H", "dark": "#1d3557", "light": "#f1faee", "border": "6"},
        {"format": "png", "ec": "L", "scale": "3"},
    ],
)
async def test_png_render_decodes_to_the_scan_url(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    link = await _link(client)
    r = await client.get(f"/api/v1/links/{link['id']}/qr", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-print-check"] == "ok"
    assert decode_png(r.content) == [link["qr_url"]]
    assert link["qr_url"] == "http://fm.test/q/poster"


@pytest.mark.parametrize(
    ("fmt", "media_type", "magic"),
    [
        ("svg", "image/svg+xml", b"<?xml"),
        ("pdf", "application/pdf", b"%PDF-"),
        ("eps", "application/postscript", b"%!PS-Adobe-3.0 EPSF-3.0"),
    ],
)
async def test_vector_formats(
    client: httpx.AsyncClient, fmt: str, media_type: str, magic: bytes
) -> None:
    link = await _link(client)
    r = await client.get(f"/api/v1/links/{link['id']}/qr", params={"format": fmt})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media_type)
    assert r.content.startswith(magic)


async def test_print_check_warnings_reach_the_user(client: httpx.AsyncClient) -> None:
    link = await _link(client)
    params = {"format": "png", "border": "1", "dark": "#999999", "scale": "4"}
    r = await client.get(f"/api/v1/links/{link['id']}/qr", params=params)
    assert r.status_code == 200
    assert r.headers["x-print-check"] == "warn; quiet_zone, contrast"
    check = await client.get(
        f"/api/v1/links/{link['id']}/qr/check",
        params={**params, "print_size_mm": "10", "scan_distance_mm": "1000"},
    )
    body = check.json()
    assert body["ok"] is False
    assert body["warnings"] == ["quiet_zone", "contrast", "module_size", "scan_distance"]
    assert body["error_level"] == "M"
    by_name = {c["name"]: c for c in body["checks"]}
    assert by_name["scan_distance"]["limit"] == 100.0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "bmp"}, "format"),
        ({"ec": "Z"}, "ec"),
        ({"dark": "#12"}, "dark"),
        ({"scale": "500"}, "scale"),
        ({"scale": "100", "border": "20", "format": "png"}, "scale"),
        ({"logo": "999"}, "logo"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_render_parameters(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    link = await _link(client)
    r = await client.get(f"/api/v1/links/{link['id']}/qr", params=params)
    assert r.status_code == (400 if field == "colour" else 422)  # unknown parameter: 400
    assert r.json()["error"]["field"] == field


async def test_unknown_link_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/links/999/qr")
    assert r.status_code == 404


async def test_logo_is_stored_once_and_forces_level_h(
    client: httpx.AsyncClient, store: Store
) -> None:
    link = await _link(client)
    data = _png()
    first = await client.post(
        "/api/v1/qr/logos", content=data, headers={"content-type": "image/png"}
    )
    assert first.status_code == 201, first.text
    again = await client.post("/api/v1/qr/logos", files={"file": ("logo.png", data, "image/png")})
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["width"] == 40
    logo_id = first.json()["id"]
    r = await client.get(
        f"/api/v1/links/{link['id']}/qr",
        params={"format": "png", "logo": str(logo_id), "ec": "L", "scale": "6"},
    )
    assert r.status_code == 200
    assert decode_png(r.content) == [link["qr_url"]]
    check = await client.get(f"/api/v1/links/{link['id']}/qr/check", params={"logo": logo_id})
    assert check.json()["error_level"] == "H"
    assert {c["name"] for c in check.json()["checks"]} >= {"logo_area"}
    svg = await client.get(
        f"/api/v1/links/{link['id']}/qr", params={"format": "svg", "logo": str(logo_id)}
    )
    assert b"data:image/png;base64," in svg.content
    for fmt, magic in (("pdf", b"%PDF-"), ("eps", b"%!PS-Adobe-3.0 EPSF-3.0")):
        r = await client.get(
            f"/api/v1/links/{link['id']}/qr", params={"format": fmt, "logo": str(logo_id)}
        )
        assert r.status_code == 200 and r.content.startswith(magic)
        assert r.headers["x-print-check"] == "ok"


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"just text", "text/plain", "invalid_image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (600 * 1024), "image/png", "too_large"),
        (b"<svg><x></svg>", "image/svg+xml", "invalid_image"),
    ],
)
async def test_bad_logos_are_refused_and_not_stored(
    client: httpx.AsyncClient, store: Store, body: bytes, content_type: str, code: str
) -> None:
    r = await client.post("/api/v1/qr/logos", content=body, headers={"content-type": content_type})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "logo"
    assert r.json()["error"]["code"] == code
    assert await store.get_logo(1) is None


async def test_scans_through_q_count_as_scans(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, app: Any
) -> None:
    link = await _link(client)
    r = await anon.get("/q/poster", headers={"user-agent": IPHONE})
    assert r.status_code == 302
    assert r.headers["location"].startswith("https://shop.example/spring")
    await anon.get("/poster", headers={"user-agent": IPHONE})
    await app.state.runtime.writer.drain()
    totals = (await client.get(f"/api/v1/links/{link['id']}/stats")).json()["totals"]
    assert (totals["scans"], totals["clicks"]) == (1, 1)
    scans = (await client.get(f"/api/v1/links/{link['id']}/scans")).json()
    assert (scans["scans"], scans["unique_scans"]) == (1, 1)


async def test_reading_needs_a_key(anon: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    link = await _link(client)
    assert (await anon.get(f"/api/v1/links/{link['id']}/qr")).status_code == 401


async def test_an_oversized_multipart_logo_is_refused(
    client: httpx.AsyncClient, store: Store
) -> None:
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (700 * 1024)
    r = await client.post("/api/v1/qr/logos", files={"file": ("big.png", big, "image/png")})
    assert r.status_code == 422
    assert (r.json()["error"]["field"], r.json()["error"]["code"]) == ("logo", "too_large")
    assert await store.get_logo(1) is None


async def test_a_png_bomb_logo_is_refused_with_422(client: httpx.AsyncClient) -> None:
    data = png_bomb(100, 100, 200 * 2**20)
    r = await client.post("/api/v1/qr/logos", content=data, headers={"content-type": "image/png"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "logo"
    assert "bomb" in r.json()["error"]["message"]
