"""CRM deals read as offline conversions: HubSpot, Salesforce and Pipedrive deal exports, a
generic CSV with a column mapping, or JSON.

Each deal has an id, a stage (normalised to `won`, `qualified` or `lost`), a time, and
optionally a value, a currency and the identifiers it is matched on. E-mail and phone are
hashed here, as the conversions path hashes them (`domain.userdata`); no clear value leaves
this module. Reading is all or nothing: every bad row is listed (`InvalidFile`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from firstmark.domain.conversions import EVENT_ID, parse_ts
from firstmark.domain.costs import decode
from firstmark.domain.money import currency as check_currency
from firstmark.domain.userdata import hash_user_data
from firstmark.errors import InvalidField, InvalidFile, RowError

PRESETS = ("hubspot", "salesforce", "pipedrive", "generic")
FIELDS = (
    "deal_id", "stage", "ts", "value", "currency", "click_token", "order_id", "visitor_id",
    "gclid", "fbclid", "email", "phone",
)  # fmt: skip
REQUIRED = ("deal_id", "stage", "ts")
# Other names a JSON deal may give its time by, as CRMs name it.
JSON_ALIASES = {"time": "ts", "close_date": "ts", "closed_at": "ts"}
STAGES = ("won", "qualified", "lost")
# Meta's action sources for events a CRM reports; Google and LinkedIn take the same choice.
ACTION_SOURCES = ("system_generated", "physical_store")
# The goal each converting stage is counted under (created on first import).
STAGE_GOALS = {"won": "deal_won", "qualified": "lead_qualified"}
MAX_FILE_BYTES = 16 * 2**20
MAX_DEALS = 50_000
MAX_TEXT = 256

_WON = {"won", "closedwon", "closedwonstage"}
_LOST = {"lost", "closedlost", "deleted"}
_IDENTIFIERS: dict[str, tuple[str, ...]] = {
    "click_token": ("click token", "click_token", "firstmark click token"),
    "order_id": ("order id", "order_id", "order number"),
    "visitor_id": ("visitor id", "visitor_id", "firstmark visitor id"),
    "gclid": ("gclid", "google click id"),
    "fbclid": ("fbclid", "facebook click id"),
    "email": ("email", "e-mail", "email address", "contact email"),
    "phone": ("phone", "phone number", "mobile phone number", "contact phone"),
}


def _with_prefixes(prefixes: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The identifier columns, also as a CRM names its custom or associated fields."""
    return {
        name: tuple(f"{p}{alias}" for p in ("", *prefixes) for alias in aliases)
        for name, aliases in _IDENTIFIERS.items()
    }


# Header names per preset, lower case; a field takes the first non-empty of its columns.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    # HubSpot's deal export: "Record ID" (older exports: "Deal ID"), "Deal Name", "Deal Stage",
    # "Amount", "Close Date", "Pipeline", "Create Date", "Currency"; contacts as "Associated …".
    "hubspot": {
        "deal_id": ("record id", "deal id", "hs_object_id"),
        "stage": ("deal stage", "dealstage"),
        "ts": ("close date", "closedate", "create date"),
        "value": ("amount", "amount in company currency"),
        "currency": ("currency", "deal currency code", "deal_currency_code"),
        **_with_prefixes(("associated contact ", "contact ")),
    },
    # Salesforce's opportunity export: "Opportunity ID", "Opportunity Name", "Stage",
    # "Amount", "Close Date", "Opportunity Currency" (multi-currency orgs), "Lead Source".
    "salesforce": {
        "deal_id": ("opportunity id", "id"),
        "stage": ("stage", "stagename", "stage name"),
        "ts": ("close date", "closedate"),
        "value": ("amount",),
        "currency": ("opportunity currency", "amount currency", "currencyisocode", "currency"),
        **_with_prefixes(("contact: ", "contact ")),
    },
    # Pipedrive's deal export: "Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency",
    # "Deal - Status" (open, won, lost, deleted), "Deal - Won time", "Deal - Deal created";
    # the person as "Person - Email", "Person - Phone"; custom fields as "Deal - <name>".
    "pipedrive": {
        "deal_id": ("deal - id",),
        "stage": ("deal - status",),
        "ts": (
            "deal - won time",
            "deal - deal closed on",
            "deal - update time",
            "deal - deal created",
        ),
        "value": ("deal - value",),
        "currency": ("deal - currency",),
        **_with_prefixes(("deal - ", "person - ")),
    },
    "generic": {
        "deal_id": ("deal_id", "deal id", "id"),
        "stage": ("stage", "status"),
        "ts": ("ts", "time", "close_date", "close date", "closed_at"),
        "value": ("value", "amount"),
        "currency": ("currency",),
        **_with_prefixes(()),
    },
}


@dataclass(frozen=True, slots=True)
class Deal:
    """One checked deal: `user_data` holds the hashes of its e-mail and phone, never them."""

    row: int
    deal_id: str
    stage: str
    ts: float
    value: float | None = None
    currency: str | None = None
    click_token: str | None = None
    order_id: str | None = None
    visitor_id: str | None = None
    gclid: str | None = None
    fbclid: str | None = None
    user_data: Mapping[str, str] = field(default_factory=dict)

    @property
    def event_id(self) -> str:
        """Deterministic from deal id and stage: the same deal at the same stage is one
        conversion however often it is imported."""
        safe = f"crm.{self.stage}.{self.deal_id}"
        if EVENT_ID.fullmatch(safe):
            return safe
        return f"crm.{self.stage}.{hashlib.sha256(self.deal_id.encode()).hexdigest()[:40]}"

    @property
    def converts(self) -> bool:
        return self.stage in STAGE_GOALS


def normalise_stage(text: str) -> str:
    """'Closed Won', 'closedwon', 'won' → won; lost and deleted → lost; any other stage of
    the pipeline is a qualified lead."""
    compact = re.sub(r"[\s_-]+", "", text.strip().lower())
    if compact in _WON:
        return "won"
    if compact in _LOST:
        return "lost"
    return "qualified"


def parse_mapping(text: str) -> dict[str, str]:
    """The generic preset's mapping, `field=Column,field=Column`."""
    out: dict[str, str] = {}
    for pair in (p for p in text.split(",") if p.strip()):
        name, sep, column = pair.partition("=")
        name = name.strip()
        if not sep or not column.strip():
            raise InvalidField("mapping", "mapping takes field=Column pairs, comma-separated")
        if name not in FIELDS:
            raise InvalidField("mapping", f"mapping names an unknown field {name!r}")
        out[name] = column.strip().lower()
    return out


def parse_csv(
    data: bytes,
    preset: str,
    mapping: str | None = None,
    *,
    currency: str | None = None,
    now: float | None = None,
) -> list[Deal]:
    """Every deal of an export, or InvalidFile listing each bad row (rows count from 1, the
    header included). `currency` is for rows that name none."""
    if preset not in PRESETS:
        raise InvalidField("preset", f"preset takes {', '.join(PRESETS)}")
    if mapping and preset != "generic":
        raise InvalidField("mapping", "a mapping is for the generic preset")
    rows = _rows(decode(data))
    if not rows:
        raise InvalidField("file", "the file is empty", code="required")
    columns = {k: (v,) for k, v in parse_mapping(mapping).items()} if mapping else {}
    where = _header(rows[0], {**COLUMNS[preset], **columns})
    missing = [f for f in REQUIRED if f not in where]
    if missing:
        raise InvalidField(
            "file", f"no column for {', '.join(missing)} in the header ({preset} preset)"
        )
    if len(rows) - 1 > MAX_DEALS:
        raise InvalidField("file", f"at most {MAX_DEALS} deals in one file")
    cells = [
        (line, {name: next((row[i] for i in at if i < len(row) and row[i].strip()), "")
                for name, at in where.items()})
        for line, row in enumerate(rows[1:], start=2) if any(c.strip() for c in row)
    ]  # fmt: skip
    return _checked(cells, currency, now)


def parse_json(
    data: object, *, currency: str | None = None, now: float | None = None
) -> list[Deal]:
    """`{"deals": [{"deal_id", "stage", "ts", …}]}`; a deal's row is its place in the list,
    from 1."""
    if not isinstance(data, Mapping) or not isinstance(data.get("deals"), list):
        raise InvalidField("deals", 'send {"deals": [...]}', code="invalid_type")
    items: list[Any] = data["deals"]
    if not 1 <= len(items) <= MAX_DEALS:
        raise InvalidField("deals", f"deals must be a list of 1-{MAX_DEALS} items")
    cells: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    for row, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            errors.append(RowError(row, "deal", "a deal must be an object"))
            continue
        for name in sorted(set(item) - set(FIELDS) - set(JSON_ALIASES)):
            errors.append(RowError(row, name, f"unknown field {name!r}"))
        given = {JSON_ALIASES.get(k, k): v for k, v in item.items() if v is not None}
        if len(given) < sum(v is not None for v in item.values()):
            errors.append(RowError(row, "ts", "give the time once (ts, time or close_date)"))
        text: dict[str, str] = {}
        for name in FIELDS:
            value = given.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                errors.append(RowError(row, name, f"{name} must be a string or a number"))
            else:
                text[name] = str(value)
        cells.append((row, text))
    if errors:
        raise InvalidFile(errors)
    return _checked(cells, currency, now)


def _rows(text: str) -> list[list[str]]:
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:8192], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    try:
        return list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise InvalidField("file", f"the CSV cannot be read: {exc}", code="invalid_csv") from None


def _header(cells: Sequence[str], columns: Mapping[str, Sequence[str]]) -> dict[str, list[int]]:
    names = [c.strip().lower() for c in cells]
    found: dict[str, list[int]] = {}
    for name, aliases in columns.items():
        at = [names.index(a) for a in aliases if a in names]
        if at:
            found[name] = at
    return found


def _checked(
    cells: Sequence[tuple[int, Mapping[str, str]]], currency: str | None, now: float | None
) -> list[Deal]:
    now = time.time() if now is None else now
    fallback = check_currency(currency)
    deals: list[Deal] = []
    errors: list[RowError] = []
    for row, values in cells:
        deal, problems = _deal(row, values, fallback, now)
        errors.extend(problems)
        if deal is not None:
            deals.append(deal)
    if errors:
        raise InvalidFile(errors)
    if not deals:
        raise InvalidField("file", "the file has no deals", code="required")
    return deals


def _deal(
    row: int, values: Mapping[str, str], fallback: str | None, now: float
) -> tuple[Deal | None, list[RowError]]:
    problems: list[RowError] = []

    def text(name: str) -> str | None:
        value = values.get(name, "").strip()
        if not value:
            return None
        if len(value) > MAX_TEXT:
            problems.append(RowError(row, name, f"{name} is longer than {MAX_TEXT} characters"))
            return None
        return value

    deal_id, stage_text, when = text("deal_id"), text("stage"), text("ts")
    for name, given in (("deal_id", deal_id), ("stage", stage_text), ("ts", when)):
        if given is None and not any(p.column == name for p in problems):
            problems.append(RowError(row, name, f"{name} is required"))
    ts = None
    if when is not None:
        try:
            ts = deal_time(when, now)
        except InvalidField as exc:
            problems.append(RowError(row, "ts", exc.message))
    value = None
    raw_value = text("value")
    if raw_value is not None:
        value = _amount(raw_value)
        if value is None:
            problems.append(RowError(row, "value", f"value {raw_value!r} is not an amount"))
    money = None
    try:
        money = check_currency(text("currency")) or fallback
    except InvalidField as exc:
        problems.append(RowError(row, "currency", exc.message))
    else:
        if value is not None and money is None:
            problems.append(RowError(row, "currency", "a value needs a currency (or the option)"))
    user: dict[str, str] = {}
    for name in ("email", "phone"):
        given = text(name)
        if given is None:
            continue
        try:
            hashed = hash_user_data({name: given})
        except InvalidField as exc:
            problems.append(RowError(row, name, exc.message.replace("user_data.", "")))
            continue
        key = "em" if name == "email" else "ph"
        user[key] = hashed[key]
    ids = {n: text(n) for n in ("click_token", "order_id", "visitor_id", "gclid", "fbclid")}
    if problems or deal_id is None or stage_text is None or ts is None:
        return None, problems
    return Deal(
        row=row,
        deal_id=deal_id,
        stage=normalise_stage(stage_text),
        ts=ts,
        value=value,
        currency=money,
        user_data=user,
        **ids,
    ), []


def deal_time(text: str, now: float) -> float:
    """ISO 8601 (with an offset, or UTC when it has none), epoch seconds or milliseconds, or
    a day (ISO, US month/day/year, or day.month.year): a day alone stands for its end, but
    never later than now, so the clicks and calls of that day come before it."""
    text = text.strip()
    if re.fullmatch(r"\d{10}(\.\d+)?", text):
        return parse_ts(float(text), now)
    if re.fullmatch(r"\d{13}", text):
        return parse_ts(int(text) / 1000, now)
    day = _day(text)
    if day is not None:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if start.timestamp() > now:
            raise InvalidField("ts", "ts is in the future")
        end = start + timedelta(days=1, seconds=-1)
        return parse_ts(min(end.timestamp(), now), now)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidField("ts", f"{text!r} is not a date or time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parse_ts(parsed.isoformat(), now)


def _day(text: str) -> date | None:
    """A day alone: 2026-11-30, 11/30/2026 (Salesforce's US exports) or 30.11.2026."""
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    us = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    dotted = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif us:
        month, day, year = (int(g) for g in us.groups())
    elif dotted:
        day, month, year = (int(g) for g in dotted.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidField("ts", f"{text!r} is not a date") from None


def _amount(text: str) -> float | None:
    """'1,234.56', '1234.56', '€ 12.30', '12,30' → a number."""
    cleaned = re.sub(r"[^\d.,\-]", "", text)
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(",", "")
    elif cleaned.count(",") == 1 and len(cleaned.split(",")[1]) != 3:
        cleaned = cleaned.replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return float(value) if value.is_finite() and value >= 0 else None
