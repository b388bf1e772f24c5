"""The Store protocol: every question the app asks of its database, one method each.

Narrow protocols, one per aggregate, say what each part of the app needs (a service that only
reads links asks for a LinkStore); `Store` is all of them. Each engine (sqlite/, postgres/)
implements all of it and one contract suite tests both. Rows become domain objects in rows/,
so callers never see SQL or engine types.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from firstmark.domain import alerts, audit, privacy, webhooks
from firstmark.domain.abtest import VariantCounts
from firstmark.domain.calls import Call, CallEvent, Lease
from firstmark.domain.channels import Rule
from firstmark.domain.conversions import Conversion
from firstmark.domain.costs import CostRow
from firstmark.domain.customers import Sale
from firstmark.domain.destinations import (
    Attempt,
    Delivery,
    DeliveryFilter,
    Destination,
    OutboxItem,
    OutboxRow,
    OutboxTarget,
)
from firstmark.domain.events import Event, Touch
from firstmark.domain.funnels import Funnel, StepEvent
from firstmark.domain.funnels import Step as FunnelStep
from firstmark.domain.goals import Goal
from firstmark.domain.hits import Hit
from firstmark.domain.keys import ApiKey
from firstmark.domain.linkcheck import Health
from firstmark.domain.links import Link
from firstmark.domain.numbers import Pool, TrackingNumber
from firstmark.domain.paths import PathData
from firstmark.domain.placements import Placement
from firstmark.domain.qrrender import Logo
from firstmark.domain.reports import (
    ConversionTotal,
    CostTotal,
    Credits,
    CreditTotal,
    Journey,
    TrafficTotal,
    VisitTotal,
)
from firstmark.domain.retention import Action as RetentionAction
from firstmark.domain.roles import ADMIN, at_least
from firstmark.domain.schedules import Schedule
from firstmark.domain.sites import Site
from firstmark.domain.visits import Visit
from firstmark.domain.web import Sums


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
    role: str  # domain/roles.py
    disabled: bool = False  # may not sign in; their sessions ended and their keys stopped
    created_at: int | None = None  # epoch seconds

    @property
    def is_admin(self) -> bool:
        return at_least(self.role, ADMIN)


@dataclass(frozen=True, slots=True)
class Invitation:
    """A one-time link to join with `role`; the token itself is never stored."""

    id: int
    role: str
    created_by: str
    created_at: int
    expires_at: int
    used_at: int | None = None
    used_by: str | None = None


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


class SchemaStore(Protocol):
    """The database itself: connections, migrations, health and change notifications."""

    url: str

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def migrate(self) -> list[str]: ...
    async def pending_migrations(self) -> list[str]: ...
    async def ping(self) -> None: ...
    async def watch_changes(self, callback: ChangeCallback) -> None: ...
    async def checkpoint(self) -> None:
        """Moves written pages into place off the writer's path, every second while
        `firstmark serve` runs (SQLite's WAL checkpoint; PostgreSQL does its own)."""


class TableStore(Protocol):
    """Whole-table access for `firstmark copy` (moving an install between engines)."""

    async def tables(self) -> dict[str, list[str]]: ...
    def dump_table(
        self, table: str, columns: Sequence[str], batch: int
    ) -> AsyncIterator[list[tuple[Any, ...]]]: ...
    async def load_table(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None: ...
    async def count_rows(self, table: str) -> int: ...


class LinkStore(Protocol):
    async def insert_link(self, link: Link) -> Link: ...
    async def update_link(self, link: Link) -> Link: ...
    async def get_link(self, link_id: int) -> Link | None: ...
    async def link_by_code(self, host: str, code: str) -> Link | None: ...
    async def list_links(self, query: LinkQuery) -> tuple[list[Link], int]: ...
    async def count_links(self) -> int: ...
    async def utm_values_in_use(self) -> dict[str, list[str]]: ...


class HitStore(Protocol):
    async def write_hits(self, hits: Sequence[Hit], *, hold: bool = False) -> None:
        """Stores a batch. With `hold`, the rollup increments may wait in memory for up to
        about a second (SQLite's one server; see settle_hits); the hit rows never wait."""

    async def settle_hits(self, *, force: bool = False) -> None:
        """Writes held rollup increments once they have waited long enough (or at once with
        `force`)."""

    async def count_hits(self, link_id: int | None = None) -> int: ...
    async def human_hit_count(self, link_id: int) -> int: ...
    async def rollups(
        self, link_ids: Sequence[int] | None, start: float, end: float
    ) -> list[RollupRow]: ...
    async def breakdown(
        self, link_id: int, column: str, start: float, end: float, limit: int
    ) -> list[tuple[str | None, int, int]]: ...
    async def group_totals(self, group_by: str, start: float, end: float) -> list[GroupRow]: ...
    async def add_imported_clicks(self, link_id: int, day: int, clicks: int) -> None: ...
    async def variant_counts(self, link_id: int) -> dict[int, VariantCounts]: ...
    async def salt_for_day(self, day: int) -> bytes: ...
    async def forget_salts(self, before_day: int) -> int: ...


class KeyStore(Protocol):
    async def insert_api_key(self, key: ApiKey) -> ApiKey: ...
    # With its user's role; a key of a disabled or removed user reads as revoked.
    async def api_key_by_prefix(self, prefix: str) -> ApiKey | None: ...
    async def list_api_keys(self, user_id: int | None = None) -> list[ApiKey]: ...
    async def touch_api_key(self, key_id: int, when: datetime) -> None: ...
    async def revoke_api_key(self, prefix: str) -> bool: ...


class UserStore(Protocol):
    async def insert_user(self, username: str, password_hash: str, role: str) -> int: ...
    async def count_users(self) -> int: ...
    async def user_by_name(self, username: str) -> User | None: ...
    async def list_users(self) -> list[User]: ...
    # Also ends every session of the user; False when there is no such user.
    async def set_user_password(self, user_id: int, password_hash: str) -> bool: ...
    async def set_user_role(self, user_id: int, role: str) -> bool: ...
    # Disabling also ends every session of the user; their keys stop while disabled.
    async def set_user_disabled(self, user_id: int, disabled: bool, now: float) -> bool: ...
    # Ends the user's sessions and revokes their keys, then removes the user.
    async def delete_user(self, user_id: int) -> bool: ...
    async def insert_invitation(
        self, token_hash: str, role: str, created_by: str, now: float, expires_at: float
    ) -> Invitation: ...
    async def list_invitations(self, now: float) -> list[Invitation]: ...  # pending ones
    async def delete_invitation(self, invitation_id: int) -> bool: ...
    # Uses the invitation (once, before it expires) and creates the user in one transaction;
    # None when the token is unknown, used or expired.
    async def accept_invitation(
        self, token_hash: str, username: str, password_hash: str, now: float
    ) -> User | None: ...


class SessionStore(Protocol):
    """Dashboard sessions on the server, by `key` (the SHA-256 of the cookie's session id)."""

    async def insert_session(
        self, key: str, user_id: int, now: float, expires_at: float
    ) -> None: ...
    async def session_user(self, key: str, now: float) -> User | None: ...
    async def delete_session(self, key: str) -> bool: ...
    async def delete_user_sessions(self, user_id: int) -> int: ...


class DomainStore(Protocol):
    async def upsert_domain(self, domain: Domain) -> None: ...
    async def get_domain(self, host: str) -> Domain | None: ...
    async def list_domains(self) -> list[Domain]: ...


class ReportStore(Protocol):
    async def traffic_totals(
        self, dims: Sequence[str], start: float, end: float
    ) -> list[TrafficTotal]: ...
    async def visit_totals(
        self, dims: Sequence[str], start: float, end: float
    ) -> list[VisitTotal]: ...  # human site visits by their entry's tags
    async def conversion_totals(
        self, dims: Sequence[str], start: float, end: float
    ) -> list[ConversionTotal]: ...
    async def conversion_journeys(
        self, start: float, end: float, uncredited: bool = False
    ) -> list[Journey]: ...
    async def save_credits(self, credits: Sequence[Credits]) -> None: ...
    async def credit_totals(
        self,
        dims: Sequence[str],
        start: float,
        end: float,
        currency: str | None,
        rolled: bool = True,
    ) -> list[CreditTotal]: ...
    async def sum_credit_days(self, batch: int = 10) -> int: ...
    async def forget_credit_days(self, cutoff: float) -> None: ...
    async def credits_pending(self) -> bool: ...
    async def uncredited_journeys(
        self, limit: int, after: tuple[float, int] | None = None, before: float | None = None
    ) -> list[Journey]: ...


class PathStore(Protocol):
    """Touch paths, converting and not, counted by distinct path (data-driven attribution)."""

    async def touch_paths(
        self,
        dims: Sequence[str],
        start: float,
        end: float,
        currency: str | None,
        goal_id: int | None = None,
    ) -> PathData: ...
    async def path_version(self) -> tuple[Any, ...]: ...


class CostStore(Protocol):
    """Imported ad costs."""

    async def replace_costs(self, rows: Sequence[CostRow]) -> tuple[int, int]: ...
    async def cost_totals(
        self, start_day: int, end_day: int, group_by: Sequence[str]
    ) -> list[CostTotal]: ...


class CustomerStore(Protocol):
    """The conversions the customers report joins into customers."""

    async def customer_sales(self, until: float) -> list[Sale]: ...


class SiteStore(Protocol):
    async def insert_site(self, site: Site) -> Site: ...  # Conflict when a host is taken
    async def site_by_key(self, key: str) -> Site | None: ...
    async def set_site_hosts(self, site_id: int, hosts: Sequence[str]) -> Site: ...
    async def list_sites(self) -> list[Site]: ...


class GoalStore(Protocol):
    async def insert_goal(self, goal: Goal) -> Goal: ...  # Conflict when the name is taken
    async def list_goals(self) -> list[Goal]: ...


class EventStore(Protocol):
    """Site events and the touches attribution reads."""

    async def write_events(
        self,
        events: Sequence[Event],
        touches: Sequence[Touch],
        conversions: Sequence[Conversion],
        outbox: Sequence[Sequence[OutboxTarget]] = (),
        visits: Sequence[Visit] = (),
    ) -> int: ...  # one transaction; returns the conversions stored (repeats are skipped)
    # ^ outbox[i]: the outbox rows of conversions[i], written only when it is new; visits are
    #   stored or updated (by site, key and start)
    async def count_events(self, site_id: int | None = None) -> int: ...
    async def list_events(self, site_id: int, limit: int = 100) -> list[Event]: ...
    async def touches_for(
        self, visitor_id: str | None, click_token: str | None, since: float, until: float
    ) -> list[Touch]: ...


class ConversionStore(Protocol):
    async def insert_conversions(
        self, conversions: Sequence[Conversion], outbox: Sequence[Sequence[OutboxTarget]] = ()
    ) -> list[tuple[Conversion, bool]]: ...  # one transaction; (stored or existing, duplicate)
    # ^ outbox as for write_events
    async def get_conversion(self, conversion_id: int) -> Conversion | None: ...
    async def list_conversions(
        self, goal_id: int | None, limit: int, offset: int
    ) -> tuple[list[Conversion], int]: ...
    # What a CRM deal is matched to (none of them finds a CRM deal's own conversion):
    async def conversion_by_order(self, order_id: str, until: float) -> Conversion | None: ...
    async def conversion_by_user_hash(
        self, key: str, hashed: str, until: float
    ) -> Conversion | None: ...  # key: em or ph
    async def touches_by_click_id(
        self, kind: str, value: str, since: float, until: float
    ) -> list[Touch]: ...


class JobStore(Protocol):
    """Claimable jobs, leased to one worker at a time."""

    async def enqueue_jobs(
        self, queue: str, payloads: Sequence[str], run_at: float | None = None
    ) -> list[int]: ...
    async def claim_jobs(
        self, queue: str, worker: str, limit: int, lease_s: float
    ) -> list[Job]: ...
    async def finish_jobs(self, worker: str, job_ids: Sequence[int]) -> int: ...
    async def retry_job(self, worker: str, job_id: int, run_at: float) -> bool: ...


class QrStore(Protocol):
    """QR codes: logos, placements, event schedules, scan breakdowns, destination health."""

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


class DestinationStore(Protocol):
    async def insert_destination(self, dest: Destination) -> Destination: ...  # Conflict: name
    async def update_destination(self, dest: Destination) -> Destination: ...  # NotFound
    async def get_destination(self, destination_id: int) -> Destination | None: ...
    async def list_destinations(self) -> list[Destination]: ...
    async def delete_destination(self, destination_id: int) -> bool: ...
    async def set_destination_auth(
        self, destination_id: int, status: str, error: str | None = None,
        credentials_sealed: str | None = None,
    ) -> bool: ...  # ok again: its waiting outbox rows are due now  # fmt: skip


class OutboxStore(Protocol):
    """The forwarding outbox and its delivery log. insert_conversions and write_events write a
    new conversion's outbox rows in their own transaction."""

    async def claim_outbox(
        self, worker: str, limit: int, lease_s: float, now: float | None = None
    ) -> list[OutboxItem]: ...  # due rows leased to worker; a lapsed lease is due again
    async def finish_outbox(self, worker: str, attempts: Sequence[Attempt]) -> int: ...
    async def outbox_counts(self, destination_id: int | None = None) -> dict[str, int]: ...
    async def replay_outbox(
        self, destination_id: int | None = None, outbox_ids: Sequence[int] | None = None
    ) -> int: ...  # dead → pending
    async def list_deliveries(
        self, destination_id: int | None = None, limit: int = 100, before_id: int | None = None,
        *, where: DeliveryFilter | None = None,
    ) -> list[Delivery]: ...  # newest first  # fmt: skip
    async def delivery_quality(
        self, destination_id: int, since: float, until: float
    ) -> list[tuple[int, str, str, int]]: ...  # (day, status, ",em,fbc,", attempts)
    async def delivery_health(
        self, since: float
    ) -> list[tuple[int, str, int, float | None]]: ...  # (destination, status, n, last ts)
    async def list_outbox(
        self, status: str | None = None, destination_id: int | None = None, limit: int = 100,
        before_id: int | None = None,
    ) -> list[OutboxRow]: ...  # newest first  # fmt: skip
    async def unresolved_requests(
        self, destination_id: int, since: float, limit: int = 100
    ) -> list[str]: ...  # request ids of sent attempts with no final diagnostics
    async def record_diagnostics(self, request_id: str, diagnostics: str) -> int: ...


class NumberStore(Protocol):
    """Call tracking: numbers, DNI pools and leases."""

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
    # The lease that held the number at ts (started <= ts <= expires), latest first:
    async def lease_at(self, number_id: int, ts: float) -> Lease | None: ...


class CallStore(Protocol):
    """Call tracking: the calls themselves."""

    async def apply_call(
        self, first: Call | None, event: CallEvent
    ) -> tuple[Call | None, Call | None]: ...
    # ^ one transaction, row locked: merge the event into the stored call of
    #   (event.provider, event.call_id) with domain.calls.merge, or store `first` when there is
    #   none (nothing when first is None). Returns (after, before); before None when new.
    async def set_call_conversion(self, call_id: int, conversion_id: int) -> None: ...
    async def set_call_caller(self, call: Call) -> None: ...  # fills empty caller fields
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


class ChannelStore(Protocol):
    """An operator's channel rules and referrer exclusions, in id order."""

    async def insert_channel_rule(self, rule: Rule) -> Rule: ...
    async def list_channel_rules(self) -> list[Rule]: ...
    async def delete_channel_rule(self, rule_id: int) -> bool: ...  # False when unknown


class VisitStore(Protocol):
    """Site visits, built on write by the event writer (write_events stores them)."""

    async def open_visits(
        self, keys: Sequence[tuple[int, str]], since: float
    ) -> list[Visit]: ...  # the latest visit of each (site id, key) with an event since
    async def list_visits(self, site_id: int, limit: int = 100) -> list[Visit]: ...  # newest
    # Web reports over a site's human visits started in [start, end) passing every filter
    # (domain/web.py FILTERS): one breakdown, the totals (by "hour" or "day" for a series),
    # and the visitors active since a time.
    async def web_report(
        self,
        report: str,
        site_id: int,
        filters: Mapping[str, str],
        start: float,
        end: float,
        event_name: str | None = None,
        prop: str | None = None,
    ) -> list[Sums]: ...
    async def web_totals(
        self,
        site_id: int,
        filters: Mapping[str, str],
        start: float,
        end: float,
        interval: str | None = None,
    ) -> list[Sums]: ...
    async def web_realtime(self, site_id: int, filters: Mapping[str, str], since: float) -> int: ...

    # The rollup refresher (services/rollups.py): how old the writer's marks may be before a
    # report rebuilds their days itself (0: always), one round over every rollup a report has
    # read (the rollups rebuilt), and the lock that lets one node run it.
    rollup_lag_s: float

    async def refresh_rollups(self) -> int: ...
    def rollup_lock(self) -> AbstractAsyncContextManager[bool]: ...  # True: this node refreshes


class FunnelStore(Protocol):
    """A site's funnels, and the events their reports read."""

    async def insert_funnel(self, funnel: Funnel) -> Funnel: ...
    async def get_funnel(self, funnel_id: int) -> Funnel | None: ...
    async def list_funnels(self, site_id: int | None = None) -> list[Funnel]: ...  # by id
    # Human events of visits started in [start, end) passing the filters that may be a step
    # (days: how far past `end` a funnel across visits may go), oldest first.
    async def funnel_hits(
        self,
        site_id: int,
        steps: Sequence[FunnelStep],
        filters: Mapping[str, str],
        start: float,
        end: float,
        days: int = 0,
    ) -> list[StepEvent]: ...
    # Visitors per step from the funnel's daily rollup where it answers (within one visit,
    # unfiltered, whole UTC days: rows/funnelrollup.applies), else None.
    async def funnel_counts(
        self, funnel: Funnel, filters: Mapping[str, str], start: float, end: float
    ) -> list[int] | None: ...


class PrivacyStore(Protocol):
    """Erasure, access and consent figures (the link maps are domain/privacy.py)."""

    async def privacy_linked(self, subject: privacy.Subject) -> privacy.Linked: ...
    async def privacy_export(
        self, subject: privacy.Subject
    ) -> tuple[privacy.Linked, dict[str, Any]]: ...
    async def privacy_erase(
        self, subject: privacy.Subject
    ) -> tuple[privacy.Linked, dict[str, dict[str, int]]]: ...
    async def consent_counts(
        self, start: float, end: float, site_id: int | None = None
    ) -> dict[str, dict[str, int]]: ...


class AuditStore(Protocol):
    async def insert_audit(self, entry: audit.Entry) -> None: ...
    async def list_audit(self, query: audit.Query) -> tuple[list[audit.Entry], int]: ...


class RetentionStore(Protocol):
    """Retention: what a data class would lose, taking it in bounded batches (whole months
    where the engine partitions), and the record of each class's last purge."""

    async def has_table(self, table: str) -> bool: ...
    async def retention_count(self, action: RetentionAction, cutoff: float) -> int: ...
    # Up to `batch` rows deleted (or cleared) in one short write; how many.
    async def retention_batch(self, action: RetentionAction, cutoff: float, batch: int) -> int: ...
    async def drop_old_partitions(self, table: str, cutoff: float) -> int: ...  # rows dropped
    async def ensure_partitions(self, now: float) -> int: ...  # partitions created
    def purge_lock(self) -> AbstractAsyncContextManager[bool]: ...  # True: this node purges
    async def record_purge(self, name: str, days: int, ran_at: float, deleted: int) -> None: ...
    async def last_purges(self) -> dict[str, tuple[float, int]]: ...  # class: (ran_at, deleted)


class WebhookStore(Protocol):
    """Webhook endpoints, their outbox of signed messages and its delivery log."""

    async def insert_webhook(self, ep: webhooks.Endpoint) -> webhooks.Endpoint: ...
    async def update_webhook(self, ep: webhooks.Endpoint) -> webhooks.Endpoint: ...
    async def get_webhook(self, endpoint_id: int) -> webhooks.Endpoint | None: ...
    async def list_webhooks(self) -> list[webhooks.Endpoint]: ...
    async def delete_webhook(self, endpoint_id: int) -> bool: ...
    async def enqueue_webhooks(
        self, messages: Sequence[webhooks.Message], now: float | None = None
    ) -> int: ...
    async def claim_webhooks(
        self, worker: str, limit: int, lease_s: float, now: float | None = None
    ) -> list[webhooks.QueuedMessage]: ...
    async def finish_webhooks(
        self, worker: str, attempts: Sequence[Attempt], now: float | None = None
    ) -> int: ...
    async def replay_webhooks(
        self, endpoint_id: int | None = None, outbox_ids: Sequence[int] | None = None
    ) -> int: ...
    async def webhook_counts(self, endpoint_id: int) -> dict[str, int]: ...
    async def list_webhook_deliveries(
        self, endpoint_id: int, limit: int = 100, before_id: int | None = None
    ) -> list[webhooks.WebhookDelivery]: ...


class AlertStore(Protocol):
    """Alerts, one row per occurrence (domain/alerts.py), and the summaries sent."""

    async def raise_alerts(
        self, alerts: Sequence[alerts.Alert], now: float
    ) -> list[alerts.Raised]: ...  # those not open already
    async def resolve_alerts(self, kind: str, subjects: Sequence[str], now: float) -> int: ...
    async def list_alerts(
        self, *, since: float | None = None, until: float | None = None,
        open_only: bool = False, limit: int = 200,
    ) -> list[alerts.Raised]: ...  # newest first  # fmt: skip
    async def claim_summary(self, period: str, now: float) -> bool: ...  # True: send it
    def alert_lock(self) -> AbstractAsyncContextManager[bool]: ...  # True: this node checks


class Store(
    SchemaStore,
    TableStore,
    LinkStore,
    HitStore,
    KeyStore,
    UserStore,
    SessionStore,
    DomainStore,
    JobStore,
    QrStore,
    CostStore,
    ReportStore,
    PathStore,
    SiteStore,
    GoalStore,
    EventStore,
    ConversionStore,
    DestinationStore,
    OutboxStore,
    NumberStore,
    CallStore,
    ChannelStore,
    VisitStore,
    FunnelStore,
    PrivacyStore,
    AuditStore,
    RetentionStore,
    WebhookStore,
    AlertStore,
    CustomerStore,
    Protocol,
):
    """Everything: what an engine implements and what the app holds."""
