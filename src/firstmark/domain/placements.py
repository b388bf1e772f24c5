"""QR placements: one printed code per poster, flyer run, stand or table.

A placement is its own link (kind 'qr', its own code) that shares its parent link's destination,
rules and UTM tags, with `utm_content` set to the placement's name unless given. A scan of its
code is therefore counted against the placement on the existing redirect path, and cost per scan
comes from the print cost stored here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from firstmark.domain import csvcells
from firstmark.domain.links import Link, generate_code, validate_code
from firstmark.domain.times import check_day
from firstmark.domain.utm import normalise_utm
from firstmark.errors import InvalidField, RowError

MAX_BATCH = 5000
CSV_LIMIT = 2 * 1024 * 1024
FIELDS = (
    "name", "code", "venue", "medium", "quantity", "print_cost", "currency", "starts_on",
    "ends_on", "utm_content",
)  # fmt: skip
CURRENCY = re.compile(r"[A-Z]{3}")
# Fields a placement takes from its parent link (and follows when the parent changes).
SHARED = (
    "domain", "destination", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_id",
    "campaign", "tags", "redirect_status", "forward_query", "click_token", "valid_from",
    "expires_at", "max_hits", "fallback_url", "password_hash", "rules", "noindex", "archived",
)  # fmt: skip


@dataclass(frozen=True)
class Placement:
    parent_id: int
    name: str
    link_id: int | None = None
    code: str = ""
    domain: str = ""
    utm_content: str | None = None
    venue: str | None = None
    medium: str | None = None
    quantity: int | None = None
    print_cost: Decimal | None = None
    currency: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Draft:
    """A placement as asked for: the code is None when one should be generated."""

    placement: Placement
    code: str | None


def _text(name: str, value: object, limit: int = 200) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidField(name, f"{name} must be text", code="invalid_type")
    value = value.strip()
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise InvalidField(name, f"{name} must be at most {limit} printable characters")
    return value or None


def _date(name: str, value: object) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidField(name, f"{name} must be a date like 2026-03-01", code="invalid_type")
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidField(name, f"{name} must be a date like 2026-03-01") from None
    return check_day(name, parsed)


def parse(data: object, parent_id: int) -> Draft:
    """A placement from a JSON object or a CSV row (all strings); errors name the field."""
    if not isinstance(data, Mapping):
        raise InvalidField("body", "a placement must be a JSON object", code="invalid_type")
    for key in data:
        if key not in FIELDS:
            raise InvalidField(str(key), f"unknown field {key!r}", code="unknown_field")
    name = _text("name", data.get("name"))
    if name is None:
        raise InvalidField("name", "name is required", code="required")
    code = data.get("code") or None
    if code is not None:
        code = validate_code(code)
    quantity = data.get("quantity")
    if isinstance(quantity, str):
        quantity = quantity.strip() or None
        if quantity is not None and not quantity.isdigit():
            raise InvalidField("quantity", "quantity must be a whole number")
        quantity = None if quantity is None else int(quantity)
    if quantity is not None and (isinstance(quantity, bool) or not isinstance(quantity, int)):
        raise InvalidField("quantity", "quantity must be a whole number", code="invalid_type")
    if quantity is not None and quantity < 0:
        raise InvalidField("quantity", "quantity must not be negative")
    cost_raw = data.get("print_cost")
    cost: Decimal | None = None
    if cost_raw not in (None, ""):
        if isinstance(cost_raw, bool) or not isinstance(cost_raw, (str, int, float)):
            raise InvalidField("print_cost", "print_cost must be a number", code="invalid_type")
        try:
            cost = Decimal(str(cost_raw).strip())
        except InvalidOperation:
            raise InvalidField("print_cost", "print_cost must be a number like 120.50") from None
        if not cost.is_finite() or cost < 0 or cost > Decimal("1e12"):
            raise InvalidField("print_cost", "print_cost must be a positive amount")
    currency = _text("currency", data.get("currency"), 3)
    if currency is not None:
        currency = currency.upper()
        if not CURRENCY.fullmatch(currency):
            raise InvalidField("currency", "currency must be a 3-letter ISO 4217 code")
    if cost is not None and currency is None:
        raise InvalidField("currency", "give the currency of print_cost", code="required")
    starts, ends = _date("starts_on", data.get("starts_on")), _date("ends_on", data.get("ends_on"))
    if starts and ends and ends < starts:
        raise InvalidField("ends_on", "ends_on must not be before starts_on")
    content = _text("utm_content", data.get("utm_content"))
    placement = Placement(
        parent_id=parent_id,
        name=name,
        utm_content=normalise_utm(content) if content else None,
        venue=_text("venue", data.get("venue")),
        medium=_text("medium", data.get("medium"), 64),
        quantity=quantity,
        print_cost=cost,
        currency=currency,
        starts_on=starts,
        ends_on=ends,
    )
    return Draft(placement, code)


def parse_csv(text: str, parent_id: int) -> list[Draft]:
    """Every row of a CSV with a header line; the first bad row stops it, named by its line."""
    drafts, problems = check_csv(text, parent_id)
    if problems:
        first = problems[0]
        if not first.column:
            raise InvalidField(f"row {first.row}", f"row {first.row} {first.message}")
        raise InvalidField(f"row {first.row}: {first.column}", f"row {first.row}: {first.message}")
    return drafts


def check_csv(text: str, parent_id: int) -> tuple[list[Draft], list[RowError]]:
    """Every row of a CSV with a header line, and every bad row's problem (row numbers count
    the header line as 1), so a person can fix a file in one go. A file that is wrong as a
    whole (no header, unknown column, too many rows, no rows, not readable) raises
    InvalidField."""
    try:
        return _check_rows(text, parent_id)
    except csv.Error as exc:  # a cell over 128 KB, a NUL byte, a quote left open
        raise InvalidField("file", f"the CSV cannot be read: {exc}", code="invalid_csv") from None


def _check_rows(text: str, parent_id: int) -> tuple[list[Draft], list[RowError]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "name" not in reader.fieldnames:
        raise InvalidField("file", "the CSV needs a header line with at least a 'name' column")
    unknown = [f for f in reader.fieldnames if f not in FIELDS]
    if unknown:
        raise InvalidField("file", f"unknown column {unknown[0]!r}", code="unknown_field")
    drafts: list[Draft] = []
    problems: list[RowError] = []
    names: set[str] = set()
    codes: set[str] = set()
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(RowError(line, "", "has more values than columns"))
            continue
        try:
            draft = parse({k: v for k, v in row.items() if v is not None}, parent_id)
        except InvalidField as exc:
            problems.append(RowError(line, exc.field or "", exc.message))
            continue
        if draft.placement.name in names:
            problems.append(RowError(line, "name", "name is repeated in the file"))
            continue
        if draft.code is not None and draft.code in codes:
            problems.append(RowError(line, "code", "code is repeated in the file"))
            continue
        names.add(draft.placement.name)
        if draft.code:
            codes.add(draft.code)
        drafts.append(draft)
        if len(drafts) + len(problems) > MAX_BATCH:
            raise InvalidField("file", f"at most {MAX_BATCH} placements per file")
    if not drafts and not problems:
        raise InvalidField("file", "the CSV has no rows")
    return drafts, problems


def placement_link(parent: Link, draft: Draft, now: datetime) -> Link:
    """The placement's own link: the parent's shared fields, its own code and utm_content."""
    shared = {name: getattr(parent, name) for name in SHARED}
    p = draft.placement
    return Link(
        code=draft.code or generate_code(),
        kind="qr",
        placement=p.name,
        utm_content=p.utm_content or normalise_utm(p.name)[:200],
        created_at=now,
        updated_at=now,
        **shared,
    )


def follow(child: Link, parent: Link, now: datetime) -> Link:
    """A placement's link after its parent changed: shared fields follow, the rest stays."""
    return replace(
        child,
        **{name: getattr(parent, name) for name in SHARED},
        updated_at=now,
        version=child.version + 1,
    )


def to_json(p: Placement, short_url: str) -> dict[str, Any]:
    return {
        "id": p.link_id,
        "link_id": p.parent_id,
        "name": p.name,
        "code": p.code,
        "short_url": short_url,
        "utm_content": p.utm_content,
        "venue": p.venue,
        "medium": p.medium,
        "quantity": p.quantity,
        "print_cost": None if p.print_cost is None else str(p.print_cost),
        "currency": p.currency,
        "starts_on": None if p.starts_on is None else p.starts_on.isoformat(),
        "ends_on": None if p.ends_on is None else p.ends_on.isoformat(),
    }


SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(p: Placement, fmt: str, taken: set[str]) -> str:
    """A file name for the ZIP: the placement's name made safe, unique within the archive."""
    stem = SAFE_NAME.sub("-", p.name).strip("-.")[:80] or p.code
    name = f"{stem}.{fmt}"
    if name in taken:
        name = f"{stem}-{p.code}.{fmt}"
    taken.add(name)
    return name


def manifest(rows: Sequence[tuple[Placement, str, str]], checks: Sequence[str]) -> str:
    """manifest.csv: placement, code, short URL, file name, the print details, and each
    code's print check summary (as in the X-Print-Check header)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csvcells.row(
        ["placement", "code", "short_url", "file", "venue", "medium", "quantity", "print_cost",
         "currency", "print_check"]
    ))  # fmt: skip
    for (p, url, name), check in zip(rows, checks, strict=True):
        writer.writerow(csvcells.row(
            [p.name, p.code, url, name, p.venue or "", p.medium or "", p.quantity or "",
             "" if p.print_cost is None else str(p.print_cost), p.currency or "", check]
        ))  # fmt: skip
    return out.getvalue()
