"""CSV cells that a spreadsheet will not run: the OWASP rule against CSV injection.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula
by Excel, LibreOffice and Google Sheets, and exported values come from outside (page paths,
referrers and UTM tags sent to `/e` by anyone, link names, placement names). Such a cell gets
a leading `'`, which spreadsheets show as text. Plain numbers (`-12.50`, `+3`) are left alone:
they are data, and cannot call anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def cell(value: object) -> object:
    """The value as it may be written; only text is ever changed."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def row(values: Iterable[object]) -> list[object]:
    """Every cell of a row through `cell`: what every CSV export writes."""
    return [cell(value) for value in values]


BOM = "\ufeff"


def document(text: str) -> bytes:
    """A CSV file as it is sent: UTF-8 behind a byte-order mark. Without the mark, Excel
    reads the file in the system's code page and "—" or "Zürich" come out garbled."""
    return (BOM + text).encode("utf-8")
