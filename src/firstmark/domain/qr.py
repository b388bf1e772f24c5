"""QR options read from user input, and the print check every rendered code carries.

The print check is advice, never an error: a code that fails a check still renders, and the
warnings travel with it (JSON endpoint, `X-Print-Check` header) so the user sees them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from firstmark.errors import InvalidField

FORMATS = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
    "eps": "application/postscript",
}
ERROR_LEVELS = ("L", "M", "Q", "H")
# Share of codewords each level can restore (ISO/IEC 18004).
RECOVERY = {"L": 0.07, "M": 0.15, "Q": 0.25, "H": 0.30}
MAX_PIXELS = 4000  # longest side of any rendering, in pixels (or points for PDF/EPS)
MAX_BYTES = 2 * 1024 * 1024
MIN_QUIET_ZONE = 4
MIN_CONTRAST = 4.0
MIN_MODULE_MM = 0.4  # below this, printing and phone cameras both start to lose modules
DISTANCE_RATIO = 10  # scan distance / code width that phones read reliably
HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
OPTION_NAMES = frozenset(
    {
        "format", "scale", "border", "dark", "light", "ec", "logo", "logo_size",
        "print_size_mm", "scan_distance_mm",
    }
)  # fmt: skip


@dataclass(frozen=True)
class QrOptions:
    format: str = "svg"
    scale: int = 10
    border: int = MIN_QUIET_ZONE
    dark: str = "#000000"
    light: str = "#ffffff"
    ec: str = "M"
    logo: int | None = None  # id of an uploaded logo
    logo_size: int = 20  # logo width, percent of the symbol's width
    print_size_mm: float | None = None  # width of the printed code, quiet zone included
    scan_distance_mm: float | None = None

    @property
    def error_level(self) -> str:
        """A logo hides modules: only level H restores enough of them."""
        return "H" if self.logo is not None else self.ec


def parse_colour(name: str, value: str) -> str:
    """'#abc', 'abc', '#AABBCC' → '#aabbcc'."""
    found = HEX.fullmatch(value.strip())
    if not found:
        raise InvalidField(name, f"{name} must be a hex colour like #1a2b3c", code="invalid_colour")
    digits = found[1].lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.strip().isdigit() or not low <= int(raw) <= high:
        raise InvalidField(name, f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _mm(params: Mapping[str, str], name: str, high: float) -> float | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidField(name, f"{name} must be a number of millimetres") from None
    if not 0 < value <= high:
        raise InvalidField(name, f"{name} must be above 0 and at most {high:g}")
    return value


def parse_options(params: Mapping[str, str], *, default_format: str = "svg") -> QrOptions:
    """Options from query parameters (or CLI flags turned into the same names)."""
    unknown = set(params) - OPTION_NAMES
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidField(name, f"unknown parameter {name!r}", code="unknown_field")
    fmt = (params.get("format") or default_format).lower()
    if fmt not in FORMATS:
        raise InvalidField("format", f"format must be one of {', '.join(FORMATS)}")
    ec = (params.get("ec") or "M").upper()
    if ec not in ERROR_LEVELS:
        raise InvalidField("ec", "ec must be one of L, M, Q, H")
    logo: int | None = None
    if params.get("logo"):
        logo = _int(params, "logo", 0, 1, 2**62)
    return QrOptions(
        format=fmt,
        scale=_int(params, "scale", 10, 1, 100),
        border=_int(params, "border", MIN_QUIET_ZONE, 0, 20),
        dark=parse_colour("dark", params.get("dark") or "#000000"),
        light=parse_colour("light", params.get("light") or "#ffffff"),
        ec=ec,
        logo=logo,
        logo_size=_int(params, "logo_size", 20, 5, 40),
        print_size_mm=_mm(params, "print_size_mm", 10_000),
        scan_distance_mm=_mm(params, "scan_distance_mm", 100_000),
    )


# --- the print check --------------------------------------------------------------------------


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of '#rrggbb'."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(one: str, other: str) -> float:
    """WCAG contrast ratio, 1 to 21, whichever colour is lighter."""
    a, b = luminance(one), luminance(other)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str
    value: Any = None
    limit: Any = None


@dataclass(frozen=True)
class PrintCheck:
    modules: int  # symbol width in modules, without the quiet zone
    version: str  # e.g. '3-H'
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def warnings(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def header(self) -> str:
        """Short summary for the X-Print-Check response header."""
        return "ok" if self.ok else "warn; " + ", ".join(self.warnings)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "version": self.version,
            "modules": self.modules,
            "warnings": self.warnings,
            "checks": [
                {
                    "name": c.name,
                    "ok": c.ok,
                    "message": c.message,
                    "value": c.value,
                    "limit": c.limit,
                }
                for c in self.checks
            ],
        }


def print_check(options: QrOptions, modules: int, version: str) -> PrintCheck:
    """Checks that decide whether a printed code scans: quiet zone, contrast, logo vs error
    level, and (when sizes are given) module size and size for the scan distance."""
    checks: list[Check] = []
    checks.append(
        Check(
            "quiet_zone",
            options.border >= MIN_QUIET_ZONE,
            f"quiet zone is {options.border} modules; scanners need at least {MIN_QUIET_ZONE}",
            options.border,
            MIN_QUIET_ZONE,
        )
    )
    ratio = round(contrast_ratio(options.dark, options.light), 2)
    checks.append(
        Check(
            "contrast",
            ratio >= MIN_CONTRAST,
            f"contrast ratio is {ratio}:1; print at least {MIN_CONTRAST:g}:1",
            ratio,
            MIN_CONTRAST,
        )
    )
    inverted = luminance(options.dark) > luminance(options.light)
    checks.append(
        Check(
            "polarity",
            not inverted,
            "dark modules are lighter than the background; many scanners cannot read inverted codes"
            if inverted
            else "dark modules on a lighter background",
        )
    )
    if options.logo is not None:
        area = (options.logo_size / 100) ** 2
        # A logo may hide at most half of what the level restores: the rest is for dirt,
        # glare and print defects.
        allowed = RECOVERY[options.error_level] / 2
        checks.append(
            Check(
                "logo_area",
                area <= allowed,
                f"logo covers {area:.1%} of the symbol; level {options.error_level} allows "
                f"{allowed:.1%} with a safety margin",
                round(area, 4),
                allowed,
            )
        )
    total_modules = modules + 2 * options.border
    if options.print_size_mm is not None:
        module_mm = round(options.print_size_mm / total_modules, 3)
        checks.append(
            Check(
                "module_size",
                module_mm >= MIN_MODULE_MM,
                f"one module is {module_mm} mm at {options.print_size_mm:g} mm wide; "
                f"keep it at least {MIN_MODULE_MM} mm",
                module_mm,
                MIN_MODULE_MM,
            )
        )
    if options.scan_distance_mm is not None:
        needed = round(options.scan_distance_mm / DISTANCE_RATIO, 1)
        symbol_mm = (
            None
            if options.print_size_mm is None
            else round(options.print_size_mm * modules / total_modules, 1)
        )
        checks.append(
            Check(
                "scan_distance",
                symbol_mm is None or symbol_mm >= needed,
                f"scanned from {options.scan_distance_mm:g} mm the code needs to be at least "
                f"{needed:g} mm wide" + ("" if symbol_mm is None else f"; it is {symbol_mm:g} mm"),
                symbol_mm,
                needed,
            )
        )
    return PrintCheck(modules=modules, version=version, checks=checks)
