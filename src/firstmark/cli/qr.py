"""`firstmark qr …`: render a link's QR code, create placements from a CSV, export them as a ZIP."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from firstmark.cli.common import Commands, group
from firstmark.config import Settings
from firstmark.domain import placements
from firstmark.domain.qr import ERROR_LEVELS, FORMATS, parse_options
from firstmark.domain.qrrender import MAX_LOGO_BYTES, read_logo
from firstmark.errors import InvalidField
from firstmark.services import links as links_service
from firstmark.services import qr as qr_service
from firstmark.store import Store

OPTION_FLAGS = ("scale", "border", "dark", "light", "ec", "logo_size")


async def _options(args: argparse.Namespace, store: Store) -> dict[str, str]:
    params = {"format": args.format}
    for name in OPTION_FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            params[name] = str(value)
    for name in ("print_size_mm", "scan_distance_mm"):
        value = getattr(args, name, None)
        if value is not None:
            params[name] = str(value)
    if getattr(args, "logo", None):
        path = Path(args.logo)
        if not path.is_file():
            raise InvalidField("logo", f"no file {args.logo}")
        if path.stat().st_size > MAX_LOGO_BYTES:
            raise InvalidField("logo", "the logo must be at most 512 KB", code="too_large")
        logo = await store.insert_logo(read_logo(path.read_bytes()))
        params["logo"] = str(logo.id)
    return params


def _write(data: bytes, out: str) -> None:
    if out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        Path(out).write_bytes(data)


async def cmd_qr_render(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    link = await links_service.find_link(store, args.link)
    options = parse_options(await _options(args, store))
    rendered = await qr_service.render_link(store, settings, link, options)
    out = args.output or f"{link.code}.{options.format}"
    _write(rendered.body, out)
    for check in rendered.check.checks:
        mark = "ok  " if check.ok else "WARN"
        print(f"{mark} {check.name}: {check.message}", file=sys.stderr)
    if out != "-":
        print(
            f"wrote {out} ({len(rendered.body)} bytes, {rendered.check.version})", file=sys.stderr
        )
    return 0


async def cmd_qr_import(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    link = await links_service.find_link(store, args.link)
    assert link.id is not None
    text = Path(args.file).read_text(encoding="utf-8-sig")
    saved = await qr_service.create_placements(store, link, placements.parse_csv(text, link.id))
    for p in saved:
        print(f"{p.link_id:>6}  {qr_service.placement_json(p, settings)['short_url']:40}  {p.name}")
    print(f"{len(saved)} placements created", file=sys.stderr)
    return 0


async def cmd_qr_export(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    link = await links_service.find_link(store, args.link)
    options = parse_options(await _options(args, store))
    body, count = await qr_service.export_zip(store, settings, link, options)
    out = args.output or f"{link.code}-placements.zip"
    _write(body, out)
    if out != "-":
        print(f"wrote {out}: {count} placements", file=sys.stderr)
    return 0


def _render_options(parser: argparse.ArgumentParser, *, single: bool = True) -> None:
    parser.add_argument("--format", choices=list(FORMATS), default="svg" if single else "png")
    parser.add_argument("--scale", type=int, help="pixels (points) per module, 1-100; default 10")
    parser.add_argument("--border", type=int, help="quiet zone in modules; default 4")
    parser.add_argument("--dark", help="hex colour of dark modules; default #000000")
    parser.add_argument("--light", help="hex background colour; default #ffffff")
    parser.add_argument("--ec", choices=list(ERROR_LEVELS), help="error level; default M")
    parser.add_argument("--logo", metavar="FILE", help="PNG or SVG (≤ 512 KB) for the centre")
    parser.add_argument("--logo-size", type=int, help="logo width, %% of the code; default 20")
    parser.add_argument("--print-size-mm", type=float, help="printed width, for the check")
    parser.add_argument("--scan-distance-mm", type=float, help="scan distance, for the check")
    parser.add_argument("-o", "--output", help="file to write ('-' for stdout)")


def register(sub: Commands) -> None:
    qr = group(sub, "qr", "QR codes")
    render = qr.add_parser("render", help="render a link's QR code (it encodes /q/{code})")
    render.add_argument("link", help="id or code of a link or placement")
    _render_options(render)
    render.set_defaults(run=cmd_qr_render)
    imp = qr.add_parser("import", help="create placements from a CSV (all rows or none)")
    imp.add_argument("link")
    imp.add_argument("file", help="CSV with a header: name, venue, medium, quantity, …")
    imp.set_defaults(run=cmd_qr_import)
    export = qr.add_parser("export", help="ZIP of every placement's code plus manifest.csv")
    export.add_argument("link")
    _render_options(export, single=False)
    export.set_defaults(run=cmd_qr_export)
