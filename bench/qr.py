"""Measure QR rendering: renders per second (SVG, PNG, PNG with a logo) and the time to export
1,000 placements as a ZIP.

Usage (from the repository root):

    flock /tmp/fm-bench.lock .venv/bin/python bench/qr.py [--seconds 3] [--placements 1000]
                                                          [--format png] [--json]

Renders go straight through `firstmark.domain.qrrender.render` (no HTTP) for a 26-character
/q/ URL at the API defaults (scale 10, border 4, level M). The export creates a link and
`--placements` placements in a temporary SQLite database, then times `qr_service.export_zip`,
which renders every code and writes the ZIP and manifest.csv in memory. Prints a table and
the command line that produced it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from firstmark.config import Settings
from firstmark.domain import png
from firstmark.domain.links import Link
from firstmark.domain.placements import Draft, Placement
from firstmark.domain.qr import parse_options
from firstmark.domain.qrrender import read_logo, render
from firstmark.services import qr as qr_service
from firstmark.store import SQLiteStore

URL = "https://go.example/q/Ab3xY9z"


def _logo() -> bytes:
    rows = [bytes([200, 30, 30]) * 64 for _ in range(64)]
    return png.encode_rgb(64, 64, rows)


def renders_per_second(params: dict[str, str], seconds: float, with_logo: bool) -> float:
    options = parse_options(params)
    logo = read_logo(_logo()) if with_logo else None
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        render(URL, options, logo)
        count += 1
    return count / (time.perf_counter() - start)


async def export_time(placements: int, fmt: str) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(f"sqlite:///{Path(folder) / 'fm.db'}")
        await store.open()
        await store.migrate()
        try:
            parent = await store.insert_link(Link(destination="https://a.example/", code="expo"))
            assert parent.id is not None
            drafts = [
                Draft(Placement(parent_id=parent.id, name=f"stand-{i:04d}"), None)
                for i in range(placements)
            ]
            await qr_service.create_placements(store, parent, drafts)
            settings = Settings(base_url="https://go.example", secret_key="x")
            options = parse_options({"format": fmt})
            start = time.perf_counter()
            body, count = await qr_service.export_zip(store, settings, parent, options)
            elapsed = time.perf_counter() - start
            assert count == placements
            return elapsed, len(body)
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--placements", type=int, default=1000)
    parser.add_argument("--format", default="png", choices=["svg", "png", "pdf", "eps"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    results = {
        "svg": renders_per_second({"format": "svg"}, args.seconds, False),
        "png": renders_per_second({"format": "png"}, args.seconds, False),
        "png_logo": renders_per_second({"format": "png", "logo": "1"}, args.seconds, True),
        "svg_logo": renders_per_second({"format": "svg", "logo": "1"}, args.seconds, True),
    }
    elapsed, size = asyncio.run(export_time(args.placements, args.format))
    if args.json:
        json.dump({"renders_per_s": results, "export_s": elapsed, "zip_bytes": size}, sys.stdout)
        print()
        return
    print(f"# {' '.join(sys.argv)}")
    print(f"# python {platform.python_version()} on {platform.machine()}, one process")
    print(f"{'render':<22}{'per second':>12}")
    for name, rate in results.items():
        print(f"{name:<22}{rate:>12.0f}")
    print(
        f"export {args.placements} placements as {args.format} ZIP: {elapsed:.2f} s "
        f"({size / 1024:.0f} KB, {args.placements / elapsed:.0f} codes/s)"
    )


if __name__ == "__main__":
    main()
