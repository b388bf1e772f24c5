"""Rows of numbers, pools, leases and calls as domain objects and back, shared by the engines
(sql/calls.py). Both store times as epoch seconds and JSON as text, so one conversion serves
both."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from firstmark.domain.calls import Call, CallEvent, Lease
from firstmark.domain.consent import Consent
from firstmark.domain.dimensions import CALL_GROUP_COLUMNS
from firstmark.domain.numbers import DEFAULT_LEASE_S, Pool, TrackingNumber
from firstmark.errors import Conflict, InvalidField
from firstmark.store.protocol import CallQuery, CallTotal
from firstmark.store.rows.values import check_column

NUMBER_COLUMNS = (
    "id, e164, provider, forward_to, label, pool, link_id, campaign, qualify_s, record, "
    "fallback_to, hours, timezone, goal, released_at, created_at"
)
# What an edit may change, in the order `number_params` gives them (number and provider stay).
NUMBER_WRITE = (
    "forward_to", "label", "pool", "link_id", "campaign", "qualify_s", "record", "fallback_to",
    "hours", "timezone", "goal",
)  # fmt: skip
POOL_COLUMNS = "name, fallback, site_id, lease_s, created_at"
# A lease's stored columns but its number, in the order `lease_params` gives them.
LEASE_WRITE = (
    "id", "pool", "site_id", "started", "expires", "consent", "visitor_id", "click_token",
    "link_id", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "referrer_host", "click_ids",
)  # fmt: skip
# A lease with its number's E.164 (the numbers table is `n`, the leases `l`).
LEASE_SELECT = (
    "SELECT l.number_id, "
    + ", ".join(f"l.{c}" for c in LEASE_WRITE)
    + ", n.e164 FROM number_leases l JOIN numbers n ON n.id = l.number_id"
)
# Every field of a Call but its id, in the dataclass's order; the id comes last when read.
CALL_WRITE = (
    "provider", "call_id", "number_id", "started", "status", "answered", "ended", "duration_s",
    "caller_hash", "caller_last2", "lease_id", "channel", "link_id", "campaign", "utm_source",
    "utm_medium", "utm_campaign", "utm_content", "conversion_id", "caller_hashed",
)  # fmt: skip
CALL_COLUMNS = ", ".join((*CALL_WRITE, "id"))
# What a webhook may change on a stored call (domain.calls.merge).
CALL_MERGED = ("status", "answered", "ended", "duration_s")


def number_taken(number: TrackingNumber) -> Conflict:
    return Conflict(f"the number {number.e164} is already registered", field="number")


def no_such_link(number: TrackingNumber) -> InvalidField:
    return InvalidField("link_id", f"no link with id {number.link_id}")


def number_params(number: TrackingNumber) -> tuple[Any, ...]:
    """Values for NUMBER_WRITE."""
    return (
        number.forward_to, number.label, number.pool, number.link_id, number.campaign,
        number.qualify_s, number.record, number.fallback_to, number.hours, number.timezone,
        number.goal,
    )  # fmt: skip


def number_from_row(row: Sequence[Any]) -> TrackingNumber:
    """A row of NUMBER_COLUMNS."""
    return TrackingNumber(
        id=row[0],
        e164=row[1],
        provider=row[2],
        forward_to=row[3],
        label=row[4],
        pool=row[5],
        link_id=row[6],
        campaign=row[7],
        qualify_s=row[8],
        record=bool(row[9]),
        fallback_to=row[10],
        hours=row[11],
        timezone=row[12],
        goal=row[13],
        released_at=row[14],
        created_at=row[15],
    )


def pool_from_row(row: Sequence[Any]) -> Pool:
    """A row of POOL_COLUMNS; a pool that numbers name but nobody set up has NULLs there."""
    return Pool(
        name=row[0],
        fallback=row[1],
        site_id=row[2],
        lease_s=DEFAULT_LEASE_S if row[3] is None else row[3],
        created_at=row[4],
    )


def pools_from_rows(rows: Iterable[Sequence[Any]]) -> list[tuple[Pool, int, int]]:
    """Rows of POOL_COLUMNS then the pool's numbers and those leased, by name (sorted here:
    the engines' collations may order `-` and `_` differently)."""
    pools = [(pool_from_row(r), int(r[5]), int(r[6])) for r in rows]
    return sorted(pools, key=lambda p: p[0].name)


def lease_params(lease: Lease) -> tuple[Any, ...]:
    """Values for LEASE_WRITE. What consent does not allow is dropped here too, whatever the
    caller passed: identifiers need analytics consent, click ids ads consent."""
    keep = lease.consent.identifiers
    click_ids = dict(lease.click_ids) if lease.consent.click_ids else {}
    return (
        lease.id, lease.pool, lease.site_id, lease.started, lease.expires,
        json.dumps(lease.consent.to_json(), sort_keys=True),
        lease.visitor_id if keep else None, lease.click_token if keep else None,
        lease.link_id, lease.utm_source, lease.utm_medium, lease.utm_campaign, lease.utm_term,
        lease.utm_content, lease.referrer_host, json.dumps(click_ids, sort_keys=True),
    )  # fmt: skip


def lease_from_row(row: Sequence[Any]) -> Lease:
    """A row of LEASE_SELECT."""
    return Lease(
        number_id=row[0],
        id=row[1],
        pool=row[2],
        site_id=row[3],
        started=row[4],
        expires=row[5],
        consent=Consent.from_json(json.loads(row[6])),
        visitor_id=row[7],
        click_token=row[8],
        link_id=row[9],
        utm_source=row[10],
        utm_medium=row[11],
        utm_campaign=row[12],
        utm_term=row[13],
        utm_content=row[14],
        referrer_host=row[15],
        click_ids=json.loads(row[16]),
        e164=row[17],
    )


def taken(lease: Lease, number_id: int, e164: str) -> Lease:
    """The lease as stored: with its number, and without what consent does not allow."""
    params = dict(zip(LEASE_WRITE, lease_params(lease), strict=True))
    return replace(
        lease,
        number_id=number_id,
        e164=e164,
        visitor_id=params["visitor_id"],
        click_token=params["click_token"],
        click_ids=json.loads(params["click_ids"]),
    )


def call_params(call: Call) -> tuple[Any, ...]:
    """Values for CALL_WRITE."""
    return tuple(getattr(call, name) for name in CALL_WRITE)


def call_from_row(row: Sequence[Any]) -> Call:
    """A row of CALL_COLUMNS."""
    return Call(*row)


def check_first(first: Call, event: CallEvent) -> None:
    """The call stored for an event must be that event's call: the lock is on its key."""
    if (first.provider, first.call_id) != (event.provider, event.call_id):
        raise ValueError(f"call {first.call_id!r} stored for an event of {event.call_id!r}")


def group_columns(group_by: str | tuple[str, ...]) -> tuple[str, ...]:
    """The CALL_GROUP_COLUMNS columns of a grouping: one name, or several, each once."""
    columns = (group_by,) if isinstance(group_by, str) else tuple(group_by)
    for column in columns:
        check_column(column, CALL_GROUP_COLUMNS, "group_by")
    if not columns or len(set(columns)) != len(columns):
        raise InvalidField("group_by", "group_by takes one or more of the call groups, each once")
    return columns


def group_values(columns: tuple[str, ...], day: str) -> str:
    """The SQL of a call group's values, one per column; `day` is the engine's UTC date (ISO
    text) of `started`. Ids are compared and shown as text, like every other group's value."""
    values = []
    for column in columns:
        if column == "day":
            values.append(day)
        elif column in ("link_id", "number_id"):
            values.append(f"CAST({column} AS TEXT)")
        else:
            values.append(column)
    return ", ".join(values)


def totals_sql(columns: tuple[str, ...], day: str, where: str) -> str:
    """A grouped sum of the calls matching `where`: the group's values, then calls, answered,
    qualified and talk seconds. Every column it reads is in the calls_report index."""
    n = len(columns)
    return (
        f"SELECT {group_values(columns, day)}, count(*), count(answered), count(conversion_id), "
        f"sum(duration_s) FROM calls WHERE {where} "
        f"GROUP BY {', '.join(str(i) for i in range(1, n + 1))}"
    )


def totals_from_rows(rows: Iterable[Sequence[Any]], columns: tuple[str, ...]) -> list[CallTotal]:
    """Rows of totals_sql: by day alone, days in order; any other grouping by calls, most
    first, then by its values, a missing value after any other. Sorted here, so both engines
    agree on where NULL goes."""
    n = len(columns)
    totals = [
        CallTotal(tuple(r[:n]), int(r[n]), int(r[n + 1]), int(r[n + 2]), int(r[n + 3] or 0))
        for r in rows
    ]
    if columns == ("day",):
        return sorted(totals, key=lambda t: t.value or "")
    return sorted(totals, key=lambda t: (-t.calls, [(v is None, v or "") for v in t.key]))


def call_where(query: CallQuery, mark: Callable[[int], str]) -> tuple[str, list[Any]]:
    """The WHERE clause of a calls listing and its parameters; `mark(n)` is the engine's n-th
    placeholder (counting from 1)."""
    clauses: list[str] = []
    params: list[Any] = []

    def add(sql: str, value: Any) -> None:
        params.append(value)
        clauses.append(sql.format(mark(len(params))))

    if query.number_id is not None:
        add("number_id = {}", query.number_id)
    if query.status == "qualified":
        clauses.append("conversion_id IS NOT NULL")
    elif query.status is not None:
        add("status = {}", query.status)
    if query.campaign is not None:
        add("campaign = {}", query.campaign)
    if query.since is not None:
        add("started >= {}", query.since)
    if query.until is not None:
        add("started < {}", query.until)
    return " AND ".join(clauses) or "TRUE", params
