"""Ad-cost files: CSV exports of the ad platforms (or a plain generic file) → daily cost rows.

A file is read whole or not at all: every bad row is reported with its line number, and nothing
is imported while any remains. Presets know the column names of each platform's campaign
report export (English UI) and which source/medium its spend belongs to; `auto` picks the preset
whose columns the header row has. Campaign names are normalised like `utm_campaign`
("Spring Sale" → "spring-sale"), so spend meets the clicks of links tagged for that campaign.

Exports carry title rows above the header (Google Ads: report name and date range) and total
rows below the data; both are skipped. UTF-8 (with or without BOM) and UTF-16 (the "Excel"
exports) are read; commas, semicolons or tabs separate fields.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from firstmark.domain.money import CURRENCIES
from firstmark.domain.times import EARLIEST, LATEST
from firstmark.domain.utm import normalise_utm
from firstmark.errors import InvalidField, InvalidFile, RowError

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_SPEND = Decimal("1e12")
HEADER_SEARCH_ROWS = 15
FIELDS = ("date", "source", "medium", "campaign", "spend", "currency", "impressions", "clicks")
REQUIRED = ("date", "campaign", "spend")


@dataclass(frozen=True)
class Preset:
    name: str
    columns: Mapping[str, tuple[str, ...]]  # field → accepted header names (lower case)
    source: str | None = None  # spend of this export belongs to this utm_source…
    medium: str | None = None  # …and utm_medium, unless the file says otherwise
    day_first: bool = False  # d/m/y rather than m/d/y for dates with slashes


def _preset(name: str, channel: str | None, columns: Mapping[str, str]) -> Preset:
    """A preset from "source/medium" and "alias|alias" column names."""
    source, medium = channel.split("/") if channel else (None, None)
    aliases = {k: tuple(a.strip().lower() for a in v.split("|")) for k, v in columns.items()}
    return Preset(name, aliases, source, medium)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        _preset(
            "google_ads",
            "google/cpc",
            {
                "date": "day|date",
                "campaign": "campaign",
                "spend": "cost",
                "currency": "currency code|currency",
                "impressions": "impr.|impressions",
                "clicks": "clicks",
            },
        ),
        _preset(
            "meta",
            "facebook/paid-social",
            {
                "date": "day|reporting starts",
                "campaign": "campaign name",
                "spend": "amount spent|amount spent (*)",
                "currency": "currency",
                "impressions": "impressions",
                "clicks": "link clicks|clicks (all)",
            },
        ),
        _preset(
            "linkedin",
            "linkedin/paid-social",
            {
                "date": "start date (in utc)|start date|date",
                "campaign": "campaign name|campaign",
                "spend": "total spent|amount spent|spend",
                "currency": "currency",
                "impressions": "impressions",
                "clicks": "clicks",
            },
        ),
        _preset(
            "tiktok",
            "tiktok/paid-social",
            {
                "date": "by day|date|stat time day",
                "campaign": "campaign name|campaign",
                "spend": "cost|total cost|spend",
                "currency": "currency",
                "impressions": "impressions",
                "clicks": "clicks (destination)|clicks",
            },
        ),
        _preset(
            "microsoft",
            "bing/cpc",
            {
                "date": "time period|gregorian date|day|date",
                "campaign": "campaign name|campaign",
                "spend": "spend|cost",
                "currency": "currency code|currency",
                "impressions": "impressions|impr.",
                "clicks": "clicks",
            },
        ),
        _preset(
            "generic",
            None,
            {
                "date": "date|day",
                "source": "source|utm_source",
                "medium": "medium|utm_medium",
                "campaign": "campaign|utm_campaign",
                "spend": "spend|cost|amount",
                "currency": "currency",
                "impressions": "impressions",
                "clicks": "clicks",
            },
        ),
    )
}


@dataclass(frozen=True, slots=True)
class CostRow:
    day: date
    source: str
    medium: str
    campaign: str
    spend: Decimal
    currency: str
    impressions: int | None = None
    clicks: int | None = None


@dataclass(frozen=True)
class CostFile:
    preset: str
    rows: list[CostRow]
    skipped: int = 0  # title, empty and total rows left out
    periods: list[tuple[str, str, date, date]] = field(default_factory=list)

    @property
    def spend(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for row in self.rows:
            out[row.currency] = out.get(row.currency, Decimal(0)) + row.spend
        return out


def to_json(parsed: CostFile, replaced: int) -> dict[str, Any]:
    """What an import did, for the API and the CLI."""
    return {
        "preset": parsed.preset,
        "imported": len(parsed.rows),
        "replaced": replaced,
        "skipped_rows": parsed.skipped,
        "spend": {currency: str(amount) for currency, amount in sorted(parsed.spend.items())},
        "periods": [
            {"source": s, "medium": m, "from": first.isoformat(), "to": last.isoformat()}
            for s, m, first, last in parsed.periods
        ],
    }


def periods(rows: Iterable[CostRow]) -> list[tuple[str, str, date, date]]:
    """(source, medium, first day, last day) of each channel in a file: what a re-import of
    the same file replaces, so the same period is never counted twice."""
    spans: dict[tuple[str, str], tuple[date, date]] = {}
    for row in rows:
        key = (row.source, row.medium)
        first, last = spans.get(key, (row.day, row.day))
        spans[key] = (min(first, row.day), max(last, row.day))
    return [(s, m, first, last) for (s, m), (first, last) in sorted(spans.items())]


def decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise InvalidField("file", f"file is larger than {MAX_FILE_BYTES // 2**20} MB")
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidField(
            "file",
            "file is not UTF-8 or UTF-16 text: export it again as CSV (UTF-8)",
            code="invalid_encoding",
        ) from None


def _rows(text: str) -> list[list[str]]:
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:  # a cell over 128 KB, a NUL byte, a quote left open
        raise InvalidField("file", f"the CSV cannot be read: {exc}", code="invalid_csv") from None


def _header_match(cells: Sequence[str], preset: Preset) -> dict[str, int] | None:
    """Column index of each field the header row names, or None when a required one is
    missing."""
    names = [c.strip().lower() for c in cells]
    found: dict[str, int] = {}
    for name, aliases in preset.columns.items():
        for i, cell in enumerate(names):
            if any(_alias_matches(alias, cell) for alias in aliases):
                found[name] = i
                break
    return found if all(f in found for f in REQUIRED) else None


def _alias_matches(alias: str, cell: str) -> bool:
    if alias.endswith("(*)"):  # "amount spent (eur)": the currency rides in the header
        return cell.startswith(alias[:-3]) and cell.endswith(")")
    return cell == alias


_HEADER_CURRENCY = re.compile(r"\(([A-Za-z]{3})\)\s*$")


def parse_costs(
    data: bytes,
    preset: str = "auto",
    *,
    source: str | None = None,
    medium: str | None = None,
    currency: str | None = None,
) -> CostFile:
    """Every cost row of an export, or InvalidFile listing each bad row. `source`, `medium` and
    `currency` fill in (and for source/medium override) what the preset and file give."""
    if preset != "auto" and preset not in PRESETS:
        raise InvalidField("preset", f"preset must be auto or one of {', '.join(PRESETS)}")
    table = _rows(decode(data))
    candidates = list(PRESETS.values()) if preset == "auto" else [PRESETS[preset]]
    # The header is the first row some preset reads; the preset naming the most of its
    # columns wins, and a tie goes to the generic format, which assumes no channel.
    candidates.sort(key=lambda p: p.name != "generic")
    chosen: tuple[Preset, dict[str, int], int] | None = None
    for index, cells in enumerate(table[:HEADER_SEARCH_ROWS]):
        matches = [(p, c) for p in candidates if (c := _header_match(cells, p)) is not None]
        if matches:
            best, columns = max(matches, key=lambda m: len(m[1]))
            chosen = (best, columns, index)
            break
    if chosen is None:
        wanted = " / ".join(" + ".join(p.columns[f][0] for f in REQUIRED) for p in candidates)
        raise InvalidField(
            "file",
            f"no header row with the columns this needs ({wanted}) in the first "
            f"{HEADER_SEARCH_ROWS} rows",
            code="missing_columns",
        )
    found, columns, header_at = chosen
    if currency is not None and currency.strip().upper() not in CURRENCIES:
        raise InvalidField("currency", "currency must be an ISO 4217 code like EUR or USD")
    file_currency = currency.strip().upper() if currency else None
    if file_currency is None and "currency" not in columns:
        match = _HEADER_CURRENCY.search(table[header_at][columns["spend"]])
        file_currency = match[1].upper() if match else None
    source = normalise_utm(source) if source else found.source
    medium = normalise_utm(medium) if medium else found.medium

    rows: list[CostRow] = []
    errors: list[RowError] = []
    skipped = header_at + 1
    for line, cells in enumerate(table[header_at + 1 :], start=header_at + 2):
        if not any(c.strip() for c in cells) or cells[0].strip().lower().startswith("total"):
            skipped += 1
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            raise InvalidField("file", f"file has more than {MAX_ROWS:,} rows", code="too_long")
        row, problems = _row(line, cells, columns, found, source, medium, file_currency)
        if problems:
            errors.extend(problems)
        elif row is not None:
            rows.append(row)
    if errors:
        raise InvalidFile(errors)
    if not rows:
        raise InvalidField("file", "file has a header but no cost rows", code="empty_file")
    return CostFile(found.name, rows, skipped, periods(rows))


def _row(
    line: int,
    cells: Sequence[str],
    columns: Mapping[str, int],
    preset: Preset,
    source: str | None,
    medium: str | None,
    currency: str | None,
) -> tuple[CostRow | None, list[RowError]]:
    problems: list[RowError] = []

    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def problem(name: str, message: str) -> None:
        problems.append(RowError(line, name, message))

    day = _date(cell("date"), preset.day_first)
    if day is None:
        problem("date", f"{cell('date')!r} is not a date (use YYYY-MM-DD)")
    campaign = normalise_utm(cell("campaign"))
    if not campaign:
        problem("campaign", "campaign is empty")
    row_source = source or normalise_utm(cell("source"))
    row_medium = medium or normalise_utm(cell("medium"))
    if not row_source:
        problem("source", "source is empty (add a source column or choose a source)")
    if not row_medium:
        problem("medium", "medium is empty (add a medium column or choose a medium)")
    spend = _money(cell("spend"))
    if spend is None:
        problem("spend", f"{cell('spend')!r} is not an amount")
    elif spend < 0:
        problem("spend", "spend must not be negative")
    elif spend > MAX_SPEND:
        problem("spend", "spend is implausibly large")
    code = (cell("currency") or currency or "").upper()
    if not code:
        problem("currency", "currency is missing (add a currency column or choose a currency)")
    elif code not in CURRENCIES:
        problem("currency", f"{code!r} is not an ISO 4217 currency code")
    counts: dict[str, int | None] = {}
    for name in ("impressions", "clicks"):
        raw = cell(name)
        counts[name] = _count(raw)
        if raw and counts[name] is None:
            problem(name, f"{raw!r} is not a whole number of {name}")
    if problems:
        return None, problems
    assert day is not None and spend is not None
    return (
        CostRow(
            day,
            row_source,
            row_medium,
            campaign,
            spend,
            code,
            counts["impressions"],
            counts["clicks"],
        ),
        [],
    )


_MONTHS = {
    m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)
}


def _date(text: str, day_first: bool) -> date | None:
    """A row's day, in any of the exports' forms; None when unreadable or not in 2000-2099."""
    day = _any_date(text, day_first)
    return day if day is not None and EARLIEST.date() <= day < LATEST.date() else None


def _any_date(text: str, day_first: bool) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).date() if len(text) > 10 else date.fromisoformat(text)
    except ValueError:
        pass
    numeric = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", text)
    if numeric:
        a, b, year = (int(g) for g in numeric.groups())
        dotted = "." in text  # 25.11.2026 is day-first wherever it is written
        day, month = (a, b) if (day_first or dotted) else (b, a)
        try:
            return date(year, month, day)
        except ValueError:
            return None
    named = re.fullmatch(r"([A-Za-z]{3})[a-z]*\.? (\d{1,2}),? (\d{4})", text)
    if named and named[1].lower() in _MONTHS:
        try:
            return date(int(named[3]), _MONTHS[named[1].lower()], int(named[2]))
        except ValueError:
            return None
    return None


def _money(text: str) -> Decimal | None:
    """'1,234.56', '1234.56', '€ 12.30', '--' (no spend) → Decimal."""
    cleaned = re.sub(r"[^\d.,\-]", "", text)
    if text.strip() in {"--", "-", ""}:
        return Decimal(0) if text.strip() else None
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(",", "")  # thousands separators
    elif cleaned.count(",") == 1 and len(cleaned.split(",")[1]) != 3:
        cleaned = cleaned.replace(",", ".")  # a decimal comma: 12,30
    else:
        cleaned = cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _count(text: str) -> int | None:
    cleaned = text.strip().replace(",", "").replace(" ", "")
    if cleaned in {"", "--"}:
        return None if not cleaned else 0
    return int(cleaned) if cleaned.isdigit() else None
