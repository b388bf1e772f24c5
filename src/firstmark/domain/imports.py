"""Reading other shorteners' exports: Bitly CSV, YOURLS SQL dump or CSV, Shlink CSV or API
JSON, Kutt JSON and Dub CSV, each turned into link bodies the link validator takes.

Pure: bytes in, `Row`s out. A file that cannot be read as its tool's format raises InvalidFile
naming the row; a row whose values the link rules refuse is found later, when it is created.
Client IP addresses some exports carry (YOURLS) are never read.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from firstmark.domain.utm import UTM_FIELDS
from firstmark.errors import InvalidFile, RowError

TOOLS = ("bitly", "yourls", "shlink", "kutt", "dub")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Row:
    """One link of an export: where it was in the file, its link body, its historical clicks."""

    row: int
    body: dict[str, Any]
    clicks: int = 0
    created: datetime | None = None


@dataclass
class Outcome:
    """What an import did: links made, codes already taken, rows refused."""

    imported: list[str] = field(default_factory=list)
    conflicts: list[RowError] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    clicks: int = 0

    def to_json(self) -> dict[str, Any]:
        def rows(found: list[RowError]) -> list[dict[str, Any]]:
            return [{"row": e.row, "column": e.column, "message": e.message} for e in found]

        return {
            "imported": len(self.imported),
            "clicks": self.clicks,
            "conflicts": rows(self.conflicts),
            "errors": rows(self.errors),
        }


def split_utm(url: str) -> tuple[str, dict[str, str]]:
    """The destination without its utm_* parameters, and those parameters (first value wins)."""
    parts = urlsplit(url)
    if not parts.query:
        return url, {}
    kept: list[tuple[str, str]] = []
    utm: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in UTM_FIELDS:
            if value and key.lower() not in utm:
                utm[key.lower()] = value
        else:
            kept.append((key, value))
    if not utm:
        return url, {}
    return urlunsplit(parts._replace(query=urlencode(kept))), utm


def parse(tool: str, data: bytes) -> list[Row]:
    """Every link of an export of `tool` (one of TOOLS)."""
    if tool not in PARSERS:
        raise InvalidFile([RowError(0, "tool", f"unknown tool {tool!r}; one of {TOOLS}")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidFile([RowError(1, "file", f"not UTF-8 text ({exc.reason})")]) from None
    rows = PARSERS[tool](text)
    if not rows:
        raise InvalidFile([RowError(1, "file", f"no links found in this {tool} export")])
    if len(rows) > MAX_ROWS:
        raise InvalidFile([RowError(MAX_ROWS + 1, "file", f"at most {MAX_ROWS} links a file")])
    return rows


# --- shared helpers ---------------------------------------------------------------------------


def _body(
    code: str,
    url: str,
    *,
    tags: Sequence[str] = (),
    expires_at: str | None = None,
    valid_from: str | None = None,
    max_hits: int | None = None,
) -> dict[str, Any]:
    destination, utm = split_utm(url.strip())
    body: dict[str, Any] = {"code": code.strip(), "destination": destination, **utm}
    cleaned = [t.strip() for t in tags if t.strip()]
    if cleaned:
        body["tags"] = cleaned
    if expires_at:
        body["expires_at"] = expires_at
    if valid_from:
        body["valid_from"] = valid_from
    if max_hits:
        body["max_hits"] = max_hits
    return body


def _count(value: object, row: int, column: str) -> int:
    if value in (None, ""):
        return 0
    try:
        number = int(str(value).strip().replace(",", ""))
    except ValueError:
        raise InvalidFile([RowError(row, column, f"{value!r} is not a whole number")]) from None
    if number < 0:
        raise InvalidFile([RowError(row, column, "a click count cannot be negative")])
    return number


def _when(value: object, row: int, column: str) -> datetime | None:
    """A time as exports write it: ISO 8601, 'YYYY-MM-DD HH:MM:SS' or Unix seconds (UTC)."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise InvalidFile([RowError(row, column, f"{text!r} is not a date-time")]) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _code_of(short_url: str) -> str:
    """The code of a short URL ('https://bit.ly/abc' or 'bit.ly/abc' → 'abc')."""
    text = short_url.strip()
    if "/" not in text:
        return text
    if "://" not in text:
        text = "//" + text
    return urlsplit(text).path.strip("/")


def _csv(text: str, required: Mapping[str, Sequence[str]]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV with headers matched case-insensitively against each name's aliases;
    yields (row number counting the header as 1, {name: value})."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InvalidFile([RowError(1, "file", f"not a CSV file ({exc})")]) from None
    index = {h.strip().lower(): i for i, h in enumerate(header)}
    columns: dict[str, int] = {}
    for name, aliases in required.items():
        found = next((index[a] for a in aliases if a in index), None)
        if found is not None:
            columns[name] = found
        elif not name.startswith("?"):
            raise InvalidFile(
                [RowError(1, name, f"no {aliases[0]!r} column (the header has {header!r:.200})")]
            )
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            yield (
                number,
                {
                    n.lstrip("?"): cells[i].strip() if i < len(cells) else ""
                    for n, i in columns.items()
                },
            )
    except csv.Error as exc:
        raise InvalidFile([RowError(reader.line_num, "file", f"bad CSV ({exc})")]) from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        raise InvalidFile([RowError(line, "file", f"not JSON ({exc})")]) from None


def _items(data: Any, *paths: tuple[str, ...]) -> list[Any]:
    """The list of links in a JSON export: the document itself, or under one of `paths`."""
    if isinstance(data, list):
        return data
    for path in paths:
        found: Any = data
        for key in path:
            found = found.get(key) if isinstance(found, Mapping) else None
        if isinstance(found, list):
            return found
    raise InvalidFile([RowError(1, "file", "no list of links in this JSON document")])


def _need(item: Any, row: int, *names: str) -> None:
    if not isinstance(item, Mapping):
        raise InvalidFile([RowError(row, "file", "each link must be a JSON object")])
    for name in names:
        if not isinstance(item.get(name), str) or not item[name]:
            raise InvalidFile([RowError(row, name, f"{name} is missing")])


# --- the tools ----------------------------------------------------------------------------------


def parse_bitly(text: str) -> list[Row]:
    """Bitly's links CSV: the bitlink, its long URL, created time, total clicks, tags."""
    out = []
    for row, cells in _csv(
        text,
        {
            "link": ("link", "bitlink", "short url", "short link", "bitly link"),
            "long_url": ("long_url", "long url", "destination url", "original url"),
            "?created_at": ("created_at", "created", "date created", "created at"),
            "?clicks": ("clicks", "total clicks", "total_clicks", "engagements"),
            "?tags": ("tags",),
        },
    ):
        created = _when(cells.get("created_at"), row, "created_at")
        tags = re.split(r"[,;|]", cells.get("tags", ""))
        out.append(
            Row(
                row,
                _body(_code_of(cells["link"]), cells["long_url"], tags=tags),
                _count(cells.get("clicks"), row, "clicks"),
                created,
            )
        )
    return out


def parse_yourls(text: str) -> list[Row]:
    """A YOURLS `yourls_url` table: its mysqldump (INSERT statements) or a CSV of it."""
    if _INSERT.search(text):
        return _yourls_rows(_sql_inserts(text))
    out = []
    for row, cells in _csv(
        text,
        {
            "keyword": ("keyword",),
            "url": ("url",),
            "?timestamp": ("timestamp",),
            "?clicks": ("clicks",),
        },
    ):
        out.append(
            Row(
                row,
                _body(cells["keyword"], cells["url"]),
                _count(cells.get("clicks"), row, "clicks"),
                _when(cells.get("timestamp"), row, "timestamp"),
            )
        )
    return out


# The statements of a mysqldump that add rows (matched, never run: this is not SQL we send).
_INSERT = re.compile(
    r"(?:insert)\s+into\s+`?(\w*url)`?\s*(\(([^)]*)\))?\s*values\s*", re.IGNORECASE | re.DOTALL
)
_YOURLS_COLUMNS = ("keyword", "url", "title", "timestamp", "ip", "clicks")


def _sql_inserts(text: str) -> list[tuple[int, dict[str, object]]]:
    """Rows inserted into the `…url` table (the links) of a mysqldump, with their line."""
    found: list[tuple[int, dict[str, object]]] = []
    line, counted = 1, 0
    for match in _INSERT.finditer(text):
        if match.group(1).lower().endswith("_log") or not match.group(1).lower().endswith("url"):
            continue
        names = (
            [c.strip().strip("`") for c in match.group(3).split(",")]
            if match.group(3)
            else list(_YOURLS_COLUMNS)
        )
        pos = match.end()
        while True:
            # Lines counted from the previous tuple on: linear in the dump, not quadratic.
            line += text.count("\n", counted, pos)
            counted = pos
            values, pos = _sql_tuple(text, pos, line)
            if len(values) != len(names):
                raise InvalidFile(
                    [RowError(line, "file", f"{len(values)} values for {len(names)} columns")]
                )
            found.append((line, dict(zip(names, values, strict=True))))
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            break
    return found


_VALUE = re.compile(r"\s*(?:'((?:[^'\\]|\\.|'')*)'|([^,()'\s]+))\s*([,)])", re.DOTALL)
_ESCAPE = re.compile(r"\\(.)|''", re.DOTALL)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "0": "\0"}


def _unquote(text: str) -> str:
    """A MySQL string literal's body: backslash escapes and doubled quotes undone."""
    if "\\" not in text and "''" not in text:
        return text
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m[1], m[1]) if m[1] is not None else "'", text)


def _sql_tuple(text: str, pos: int, line: int) -> tuple[list[object], int]:
    """One `( 'a', 1, NULL )` of a VALUES list from `pos`: its values and where it ends."""
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    if pos >= len(text) or text[pos] != "(":
        raise InvalidFile([RowError(line, "file", "expected '(' in the INSERT statement")])
    pos += 1
    values: list[object] = []
    while True:
        match = _VALUE.match(text, pos)
        if match is None:
            raise InvalidFile([RowError(line, "file", "the INSERT statement is cut short")])
        quoted, bare, end = match.groups()
        if quoted is not None:
            values.append(_unquote(quoted))
        else:
            values.append(None if bare.upper() == "NULL" else bare)
        pos = match.end()
        if end == ")":
            return values, pos


def _yourls_rows(found: list[tuple[int, dict[str, object]]]) -> list[Row]:
    out = []
    for line, item in found:
        keyword, url = item.get("keyword"), item.get("url")
        if not isinstance(keyword, str) or not isinstance(url, str):
            raise InvalidFile([RowError(line, "keyword", "keyword and url are required")])
        out.append(
            Row(
                line,
                _body(keyword, url),
                _count(item.get("clicks"), line, "clicks"),
                _when(item.get("timestamp"), line, "timestamp"),
            )
        )
    return out


def parse_shlink(text: str) -> list[Row]:
    """Shlink: the web client's CSV export, or the JSON of GET /rest/v3/short-urls."""
    if text.lstrip().startswith(("{", "[")):
        out = []
        for row, item in enumerate(_items(_json(text), ("shortUrls", "data"), ("data",)), 1):
            _need(item, row, "shortCode", "longUrl")
            meta = item.get("meta") if isinstance(item.get("meta"), Mapping) else {}
            summary = item.get("visitsSummary")
            clicks = (
                summary.get("total") if isinstance(summary, Mapping) else item.get("visitsCount")
            )
            tags = item.get("tags") if isinstance(item.get("tags"), list) else []
            out.append(
                Row(
                    row,
                    _body(
                        item["shortCode"],
                        item["longUrl"],
                        tags=[str(t) for t in tags],
                        expires_at=_iso(_when(meta.get("validUntil"), row, "validUntil")),
                        valid_from=_iso(_when(meta.get("validSince"), row, "validSince")),
                        max_hits=_count(meta.get("maxVisits"), row, "maxVisits") or None,
                    ),
                    _count(clicks, row, "visitsSummary"),
                    _when(item.get("dateCreated"), row, "dateCreated"),
                )
            )
        return out
    out = []
    for row, cells in _csv(
        text,
        {
            "shortCode": ("shortcode", "short code"),
            "longUrl": ("longurl", "long url"),
            "?createdAt": ("createdat", "datecreated", "created at"),
            "?tags": ("tags",),
            "?visits": ("visits", "visitscount"),
        },
    ):
        out.append(
            Row(
                row,
                _body(cells["shortCode"], cells["longUrl"], tags=cells.get("tags", "").split("|")),
                _count(cells.get("visits"), row, "visits"),
                _when(cells.get("createdAt"), row, "createdAt"),
            )
        )
    return out


def parse_kutt(text: str) -> list[Row]:
    """Kutt: the JSON of GET /api/v2/links (`data`), or a list of its link objects."""
    out = []
    for row, item in enumerate(_items(_json(text), ("data",), ("links",)), 1):
        _need(item, row, "address", "target")
        expires = item.get("expire_in")
        out.append(
            Row(
                row,
                _body(
                    item["address"],
                    item["target"],
                    expires_at=_iso(_when(expires, row, "expire_in")),
                ),
                _count(item.get("visit_count"), row, "visit_count"),
                _when(item.get("created_at"), row, "created_at"),
            )
        )
    return out


def parse_dub(text: str) -> list[Row]:
    """Dub's links CSV export: the short link (or its key), destination, clicks, tags."""
    out = []
    for row, cells in _csv(
        text,
        {
            "link": ("shortlink", "short link", "link", "key"),
            "url": ("url", "destination url", "destination"),
            "?clicks": ("clicks",),
            "?createdAt": ("createdat", "created at"),
            "?tags": ("tags",),
            "?expiresAt": ("expiresat", "expires at"),
        },
    ):
        out.append(
            Row(
                row,
                _body(
                    _code_of(cells["link"]),
                    cells["url"],
                    tags=cells.get("tags", "").split(","),
                    expires_at=_iso(_when(cells.get("expiresAt"), row, "expiresAt")),
                ),
                _count(cells.get("clicks"), row, "clicks"),
                _when(cells.get("createdAt"), row, "createdAt"),
            )
        )
    return out


PARSERS: dict[str, Callable[[str], list[Row]]] = {
    "bitly": parse_bitly,
    "yourls": parse_yourls,
    "shlink": parse_shlink,
    "kutt": parse_kutt,
    "dub": parse_dub,
}
