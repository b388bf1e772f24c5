"""The Store protocol: every question the app asks of its database, one method each.

Each engine (sqlite.py, postgres.py) implements all of it; one contract suite tests both.
Rows become domain objects here, so callers never see SQL or engine types.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from firstmark.domain.calls import Call, CallEvent, Lease
from firstmark.domain.conversions import Conversion
from firstmark.domain.costs import CostRow
from firstmark.domain.destinations import Attempt, Delivery, Destination, OutboxItem, OutboxTarget
from firstmark.domain.events import Event, Touch
from firstmark.domain.goals import Goal
from firstmark.domain.hits import Hit
from firstmark.domain.keys import ApiKey
from firstmark.domain.linkcheck import Health
from firstmark.domain.links import Link
from firstmark.domain.money import tidy
from firstmark.domain.numbers import Pool, TrackingNumber
from firstmark.domain.placements import Placement
from firstmark.domain.qrrender import Logo
from firstmark.domain.reports import (
    ConversionTotal,
    CostTotal,
    Credits,
    CreditTotal,
    Journey,
    TrafficTotal,
)
from firstmark.domain.rules import parse_rules, rules_to_json
from firstmark.domain.schedules import Schedule
from firstmark.domain.sites import Site
from firstmark.errors import InvalidField

LINK_COLUMNS = (
    "id", "domain", "code", "destination", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content", "utm_id", "campaign", "tags", "kind", "placement", "redirect_status",
    "forward_query", "click_token", "valid_from", "expires_at", "max_hits", "fallback_url",
    "password_hash", "rules", "noindex", "archived", "created_at", "updated_at", "version",
)  # fmt: skip


@dataclass(frozen=True)
class LinkQuery:
    filters: Mapping[str, str]
    search: str | None = None  # substring of code or destination
    archived: bool | None = False  # None: both
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class RollupRow:
    hour: int  # epoch seconds at the start of the hour
    kind: str
    hits: int
    bot_hits: int
    uniques: int


@dataclass(frozen=True, slots=True)
class GroupRow:
    value: str | None
    links: int
    hits: int
    bot_hits: int
    uniques: int
    clicks: int  # human clicks
    scans: int  # human scans


@dataclass(frozen=True, slots=True)
class User:
    """A dashboard user. `password_hash` is scrypt (domain/passwords.py), never plaintext."""

    id: int
    username: str
    password_hash: str
    is_admin: bool


@dataclass(frozen=True, slots=True)
class Domain:
    host: str
    fallback_url: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed job: its payload and the lease the claiming worker holds until lease_until."""

    id: int
    queue: str
    payload: str
    attempts: int  # claims so far, this one included
    lease_until: float


@dataclass(frozen=True)
class CallQuery:
    number_id: int | None = None
    status: str | None = None  # one of domain.calls.STATUSES, or "qualified"
    campaign: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class CallTotal:
    """Calls of one group: all, answered, and qualified (became a conversion)."""

    key: tuple[str | None, ...]  # the group's values, one per group_by column, in order
    # (a link id or number id as text; a day as ISO date)
    calls: int
    answered: int
    qualified: int
    talk_seconds: int

    @property
    def value(self) -> str | None:
        """The group's value when grouped by one column."""
        return self.key[0] if self.key else None


# Called with ("link", code) or ("domain", host) when another process changed one, and with
# ("*", "") when changes may have been missed (the listening connection was lost).
ChangeCallback = Callable[[str, str], None]


class Store(Protocol):
    url: str

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def migrate(self) -> list[str]: ...
    async def pending_migrations(self) -> list[str]: ...
    async def ping(self) -> None: ...

    async def insert_link(self, link: Link) -> Link: ...
    async def update_link(self, link: Link) -> Link: ...
    async def get_link(self, link_id: int) -> Link | None: ...
    async def link_by_code(self, host: str, code: str) -> Link | None: ...
    async def list_links(self, query: LinkQuery) -> tuple[list[Link], int]: ...
    async def count_links(self) -> int: ...
    async def utm_values_in_use(self) -> dict[str, list[str]]: ...

    async def write_hits(self, hits: Sequence[Hit]) -> None: ...
    async def count_hits(self, link_id: int | None = None) -> int: ...
    async def human_hit_count(self, link_id: int) -> int: ...
    async def rollups(
        self, link_ids: Sequence[int] | None, start: float, end: float
    ) -> list[RollupRow]: ...
    async def breakdown(
        self, link_id: int, column: str, start: float, end: float, limit: int
    ) -> list[tuple[str | None, int, int]]: ...
    async def group_totals(self, group_by: str, start: float, end: float) -> list[GroupRow]: ...
    async def salt_for_day(self, day: int) -> bytes: ...
    async def forget_salts(self, before_day: int) -> int: ...

    async def insert_api_key(self, key: ApiKey) -> ApiKey: ...
    async def api_key_by_prefix(self, prefix: str) -> ApiKey | None: ...
    async def list_api_keys(self) -> list[ApiKey]: ...
    async def touch_api_key(self, key_id: int, when: datetime) -> None: ...
    async def revoke_api_key(self, prefix: str) -> bool: ...
    async def insert_user(self, username: str, password_hash: str, is_admin: bool) -> int: ...
    async def count_users(self) -> int: ...
    async def user_by_name(self, username: str) -> User | None: ...

    async def upsert_domain(self, domain: Domain) -> None: ...
    async def get_domain(self, host: str) -> Domain | None: ...
    async def list_domains(self) -> list[Domain]: ...

    # Reports.
    async def traffic_totals(
        self, dims: Sequence[str], start: float, end: float
    ) -> list[TrafficTotal]: ...
    async def conversion_totals(
        self, dims: Sequence[str], start: float, end: float
    ) -> list[ConversionTotal]: ...
    async def conversion_journeys(
        self, start: float, end: float, uncredited: bool = False
    ) -> list[Journey]: ...
    async def save_credits(self, credits: Sequence[Credits]) -> None: ...
    async def credit_totals(
        self, dims: Sequence[str], start: float, end: float, currency: str | None
    ) -> list[CreditTotal]: ...

    # Imported ad costs.
    async def replace_costs(self, rows: Sequence[CostRow]) -> tuple[int, int]: ...
    async def cost_totals(
        self, start_day: int, end_day: int, group_by: Sequence[str]
    ) -> list[CostTotal]: ...

    # Sites, events, touches, goals, conversions.
    async def insert_site(self, site: Site) -> Site: ...  # Conflict when a host is taken
    async def site_by_key(self, key: str) -> Site | None: ...
    async def set_site_hosts(self, site_id: int, hosts: Sequence[str]) -> Site: ...
    async def list_sites(self) -> list[Site]: ...
    async def insert_goal(self, goal: Goal) -> Goal: ...  # Conflict when the name is taken
    async def list_goals(self) -> list[Goal]: ...
    async def write_events(
        self,
        events: Sequence[Event],
        touches: Sequence[Touch],
        conversions: Sequence[Conversion],
        outbox: Sequence[Sequence[OutboxTarget]] = (),
    ) -> int: ...  # one transaction; returns the conversions stored (repeats are skipped)
    # ^ outbox[i]: the outbox rows of conversions[i], written only when it is new
    async def count_events(self, site_id: int | None = None) -> int: ...
    async def list_events(self, site_id: int, limit: int = 100) -> list[Event]: ...
    async def touches_for(
        self, visitor_id: str | None, click_token: str | None, since: float, until: float
    ) -> list[Touch]: ...
    async def insert_conversions(
        self, conversions: Sequence[Conversion], outbox: Sequence[Sequence[OutboxTarget]] = ()
    ) -> list[tuple[Conversion, bool]]: ...  # one transaction; (stored or existing, duplicate)
    # ^ outbox as for write_events
    async def get_conversion(self, conversion_id: int) -> Conversion | None: ...
    async def list_conversions(
        self, goal_id: int | None, limit: int, offset: int
    ) -> tuple[list[Conversion], int]: ...
    async def enqueue_jobs(
        self, queue: str, payloads: Sequence[str], run_at: float | None = None
    ) -> list[int]: ...
    async def claim_jobs(
        self, queue: str, worker: str, limit: int, lease_s: float
    ) -> list[Job]: ...
    async def finish_jobs(self, worker: str, job_ids: Sequence[int]) -> int: ...
    async def retry_job(self, worker: str, job_id: int, run_at: float) -> bool: ...

    async def watch_changes(self, callback: ChangeCallback) -> None: ...

    # Whole-table access for `firstmark copy` (moving an install between engines).
    async def tables(self) -> dict[str, list[str]]: ...
    def dump_table(
        self, table: str, columns: Sequence[str], batch: int
    ) -> AsyncIterator[list[tuple[Any, ...]]]: ...
    async def load_table(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None: ...
    async def count_rows(self, table: str) -> int: ...

    # QR codes: logos, placements, event schedules, scan breakdowns, destination health.
    async def insert_logo(self, logo: Logo) -> Logo: ...
    async def get_logo(self, logo_id: int) -> Logo | None: ...
    async def insert_placements(
        self, items: Sequence[tuple[Link, Placement]]
    ) -> list[Placement]: ...
    async def list_placements(self, parent_id: int) -> list[Placement]: ...
    async def get_placement(self, link_id: int) -> Placement | None: ...
    async def sync_placements(self, parent: Link) -> list[Link]: ...
    async def set_schedule(self, schedule: Schedule) -> None: ...
    async def get_schedule(self, link_id: int) -> Schedule | None: ...
    async def schedule_for_link(self, link_id: int) -> Schedule | None: ...
    async def delete_schedule(self, link_id: int) -> bool: ...
    async def scan_totals(
        self, link_ids: Sequence[int], start: float, end: float
    ) -> dict[int, tuple[int, int]]: ...
    async def scan_breakdown(
        self, link_ids: Sequence[int], column: str, start: float, end: float, limit: int
    ) -> list[tuple[str | None, int, int]]: ...
    async def record_health(self, results: Sequence[Health]) -> None: ...
    async def health_for(self, link_ids: Sequence[int]) -> dict[int, Health]: ...

    # Destinations, the forwarding outbox and its delivery log. insert_conversions and
    # write_events write a new conversion's outbox rows in their own transaction.
    async def insert_destination(self, dest: Destination) -> Destination: ...  # Conflict: name
    async def update_destination(self, dest: Destination) -> Destination: ...  # NotFound
    async def get_destination(self, destination_id: int) -> Destination | None: ...
    async def list_destinations(self) -> list[Destination]: ...
    async def delete_destination(self, destination_id: int) -> bool: ...
    async def claim_outbox(
        self, worker: str, limit: int, lease_s: float, now: float | None = None
    ) -> list[OutboxItem]: ...  # due rows leased to worker; a lapsed lease is due again
    async def finish_outbox(self, worker: str, attempts: Sequence[Attempt]) -> int: ...
    async def outbox_counts(self, destination_id: int | None = None) -> dict[str, int]: ...
    async def replay_outbox(
        self, destination_id: int | None = None, outbox_ids: Sequence[int] | None = None
    ) -> int: ...  # dead → pending
    async def list_deliveries(
        self, destination_id: int, limit: int = 100, before_id: int | None = None
    ) -> list[Delivery]: ...

    # Call tracking: numbers, DNI pools and leases, calls.
    async def insert_number(self, number: TrackingNumber) -> TrackingNumber: ...
    # ^ Conflict when a number that is not released has the same e164
    async def update_number(self, number: TrackingNumber) -> TrackingNumber: ...  # NotFound
    async def get_number(self, number_id: int) -> TrackingNumber | None: ...
    async def number_by_e164(self, e164: str) -> TrackingNumber | None: ...  # not released
    async def list_numbers(
        self, released: bool = False
    ) -> list[TrackingNumber]: ...  # by id; the released ones too when `released`
    async def release_number(self, number_id: int, when: float) -> bool: ...  # ends its leases
    async def upsert_pool(self, pool: Pool) -> Pool: ...
    async def get_pool(self, name: str) -> Pool | None: ...
    async def list_pools(
        self, now: float
    ) -> list[tuple[Pool, int, int]]: ...  # (pool, numbers in it, numbers leased at `now`)
    # ^ by name; a pool that numbers name but nobody set up is listed with the defaults
    async def take_lease(self, lease: Lease, now: float) -> Lease | None: ...
    # ^ the least recently leased free number of lease.pool, atomically (two nodes never get
    #   the same number); None when every number is leased. Returns lease with number_id, e164.
    async def renew_lease(self, lease_id: str, now: float, expires: float) -> Lease | None: ...
    # ^ None when unknown, or over (its number may already be someone else's)
    async def lease_at(self, number_id: int, ts: float) -> Lease | None: ...
    # ^ the lease that held the number at ts (started <= ts <= expires), latest first
    async def apply_call(
        self, first: Call | None, event: CallEvent
    ) -> tuple[Call | None, Call | None]: ...
    # ^ one transaction, row locked: merge the event into the stored call of
    #   (event.provider, event.call_id) with domain.calls.merge, or store `first` when there is
    #   none (nothing when first is None). Returns (after, before); before None when new.
    async def set_call_conversion(self, call_id: int, conversion_id: int) -> None: ...
    async def get_call(self, provider: str, call_id: str) -> Call | None: ...
    async def list_calls(self, query: CallQuery) -> tuple[list[Call], int]: ...  # newest first
    # Calls started in [start, end) by one or more of CALL_GROUP_COLUMNS (a name, or a tuple of
    # names: ("utm_source", "utm_medium") for channels); only calls of link_ids when given.
    async def call_totals(
        self,
        group_by: str | tuple[str, ...],
        start: float,
        end: float,
        link_ids: Sequence[int] | None = None,
    ) -> list[CallTotal]: ...


# --- row conversion shared by the engines ---------------------------------------------------


def money(value: Any) -> Decimal:
    """A stored amount (REAL on SQLite) as an exact Decimal to the cent and beyond."""
    return tidy(Decimal(repr(float(value))).quantize(Decimal("0.000001")))


MICROS = Decimal(1_000_000)


def epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def cost_params(row: CostRow) -> tuple[Any, ...]:
    micros = (row.spend * MICROS).to_integral_value()
    return (
        epoch_day(row.day), row.source, row.medium, row.campaign, row.currency, int(micros),
        row.impressions, row.clicks,
    )  # fmt: skip


def from_micros(micros: int) -> Decimal:
    """Millionths back to an amount, with two decimals unless it has more (0.004 stays)."""
    return tidy(Decimal(micros).scaleb(-6))


def cost_total_from_row(row: Sequence[Any], keys: int) -> CostTotal:
    spend = (Decimal(int(row[keys + 1])) / MICROS).normalize()
    return CostTotal(
        key=tuple(row[:keys]),
        currency=row[keys],
        spend=spend.quantize(Decimal("0.01"))
        if spend == spend.quantize(Decimal("0.01"))
        else spend,
        impressions=None if row[keys + 2] is None else int(row[keys + 2]),
        clicks=None if row[keys + 3] is None else int(row[keys + 3]),
        rows=int(row[keys + 4]),
    )


def epoch(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def from_epoch(value: int | float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def link_params(link: Link) -> dict[str, Any]:
    """A link as column values (without id); missing times are now."""
    now = int(time.time())
    return {
        "domain": link.domain,
        "code": link.code,
        "destination": link.destination,
        "utm_source": link.utm_source,
        "utm_medium": link.utm_medium,
        "utm_campaign": link.utm_campaign,
        "utm_term": link.utm_term,
        "utm_content": link.utm_content,
        "utm_id": link.utm_id,
        "campaign": link.campaign,
        "tags": json.dumps(list(link.tags)),
        "kind": link.kind,
        "placement": link.placement,
        "redirect_status": link.redirect_status,
        "forward_query": link.forward_query,
        "click_token": link.click_token,
        "valid_from": epoch(link.valid_from),
        "expires_at": epoch(link.expires_at),
        "max_hits": link.max_hits,
        "fallback_url": link.fallback_url,
        "password_hash": link.password_hash,
        "rules": json.dumps(rules_to_json(link.rules)),
        "noindex": link.noindex,
        "archived": link.archived,
        "created_at": epoch(link.created_at) or now,
        "updated_at": epoch(link.updated_at) or now,
        "version": link.version,
    }


def link_from_row(row: Sequence[Any]) -> Link:
    values = dict(zip(LINK_COLUMNS, row, strict=True))
    try:
        rules = parse_rules(json.loads(values["rules"]))
    except InvalidField:  # a rule the current code no longer accepts: keep the link working
        rules = ()
    return Link(
        id=values["id"],
        domain=values["domain"],
        code=values["code"],
        destination=values["destination"],
        utm_source=values["utm_source"],
        utm_medium=values["utm_medium"],
        utm_campaign=values["utm_campaign"],
        utm_term=values["utm_term"],
        utm_content=values["utm_content"],
        utm_id=values["utm_id"],
        campaign=values["campaign"],
        tags=tuple(json.loads(values["tags"])),
        kind=values["kind"],
        placement=values["placement"],
        redirect_status=values["redirect_status"],
        forward_query=bool(values["forward_query"]),
        click_token=bool(values["click_token"]),
        valid_from=from_epoch(values["valid_from"]),
        expires_at=from_epoch(values["expires_at"]),
        max_hits=values["max_hits"],
        fallback_url=values["fallback_url"],
        password_hash=values["password_hash"],
        rules=rules,
        noindex=bool(values["noindex"]),
        archived=bool(values["archived"]),
        created_at=from_epoch(values["created_at"]),
        updated_at=from_epoch(values["updated_at"]),
        version=values["version"],
    )


# The derived facts of a hit (everything but link, time, kind and visitor) are few distinct
# combinations: they are stored once in hit_dims and each hit row points at them.
DIM_COLUMNS = (
    "country", "region", "city", "device_type", "os", "browser", "referrer_host", "is_bot",
    "bot_reason", "lang",
)  # fmt: skip
Dims = tuple[Any, ...]  # values in DIM_COLUMNS order


def dims_of(hit: Hit) -> Dims:
    """The facts of a hit: its last fields, in DIM_COLUMNS order."""
    return hit[4:]


def dims_key(dims: Dims) -> str:
    """One text value naming a combination, for the UNIQUE lookup (NULL-safe, unlike a
    multi-column UNIQUE)."""
    return "\x1f".join("" if v is None else str(int(v)) if isinstance(v, bool) else v for v in dims)


Counts = list[int]  # [hits, bot_hits, uniques]


@dataclass
class Deltas:
    """What one batch adds to the rollups."""

    hourly: dict[tuple[int, int, str], Counts]  # (link, hour, kind)
    daily: dict[tuple[int, int, str, int], Counts]  # (link, day, kind, dims id)

    def per_day(self) -> dict[tuple[int, int, str], Counts]:
        """(link, day, kind) → counts, added up from the hours: what reports read."""
        return _sum_counts(
            ((link, hour // 86400, kind), c) for (link, hour, kind), c in self.hourly.items()
        )

    def all_links_per_day(self) -> dict[tuple[int, str], Counts]:
        """(day, kind) → counts over every link: the overview's series."""
        hours = self.hourly.items()
        return _sum_counts(((hour // 86400, kind), c) for (_, hour, kind), c in hours)


K = TypeVar("K")


def _sum_counts(items: Iterable[tuple[K, Counts]]) -> dict[K, Counts]:
    out: dict[K, Counts] = {}
    for key, counts in items:
        found = out.get(key)
        if found is None:
            out[key] = list(counts)
        else:
            found[0] += counts[0]
            found[1] += counts[1]
            found[2] += counts[2]
    return out


def rollup_deltas(
    hits: Sequence[Hit], dims_ids: Sequence[int], first_seen: set[tuple[int, int, str]]
) -> Deltas:
    """Increments for a batch. `first_seen` holds the (link, day, hash) keys new today; each
    counts as one unique, in the hour (and with the facts) of its first hit in the batch.
    One pass, plain lists: this runs for every click."""
    hourly: dict[tuple[int, int, str], Counts] = {}
    daily: dict[tuple[int, int, str, int], Counts] = {}
    pending = set(first_seen)
    for hit, dims_id in zip(hits, dims_ids, strict=True):
        link_id, ts, kind = hit[0], hit[1], hit[2]
        day = int(ts // 86400)
        hour_key = (link_id, int(ts // 3600) * 3600, kind)
        per_hour = hourly.get(hour_key)
        if per_hour is None:
            per_hour = hourly[hour_key] = [0, 0, 0]
        day_key = (link_id, day, kind, dims_id)
        per_day = daily.get(day_key)
        if per_day is None:
            per_day = daily[day_key] = [0, 0, 0]
        per_hour[0] += 1
        per_day[0] += 1
        if hit.is_bot:
            per_hour[1] += 1
            per_day[1] += 1
        elif pending:
            key = (link_id, day, hit.visitor_day_hash)
            if key in pending:
                pending.discard(key)
                per_hour[2] += 1
                per_day[2] += 1
    return Deltas(hourly, daily)


def visitor_keys(hits: Sequence[Hit]) -> list[tuple[int, int, str]]:
    """Distinct (link, day, hash) of the human hits in a batch, in order of first appearance."""
    seen: dict[tuple[int, int, str], None] = {}
    for hit in hits:
        if not hit.is_bot:
            seen.setdefault((hit.link_id, int(hit.ts // 86400), hit.visitor_day_hash), None)
    return list(seen)


def quote_ident(name: str) -> str:
    """A table or column name as a quoted SQL identifier (both engines)."""
    return '"' + name.replace('"', '""') + '"'


def key_scopes(raw: str) -> tuple[str, ...]:
    return tuple(s for s in raw.split(" ") if s)


def check_column(column: str, allowed: Sequence[str], field: str) -> None:
    if column not in allowed:
        raise InvalidField(field, f"{field} must be one of {', '.join(allowed)}")
