"""CRM deals in as offline conversions: what the API, the dashboard upload and
`firstmark import deals` all do.

Each deal is matched to what came before it, strongest first: its click token (a click on a
short link), an order id (an earlier conversion), a visitor id (visits), a gclid or fbclid
(touches that kept one, ads consent only), then its hashed e-mail or phone (earlier
conversions and calls that hold the hash, which exist only where ads consent was given). The
deal becomes a conversion with the identifiers and channel of what it matched, so the
attribution models credit the same clicks, visits and calls; it inherits that record's
consent, and is forwarded (with its offline action source) only when that consent allows.
The whole file is stored in one transaction, or nothing when dry_run; a stored import is one
audit entry with its counts, never a deal's content.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from firstmark.domain import conversions
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.deals import ACTION_SOURCES, STAGE_GOALS, Deal
from firstmark.domain.events import Touch
from firstmark.domain.goals import Goal
from firstmark.domain.privacymode import exempt_consent
from firstmark.errors import Conflict, InvalidField
from firstmark.services import audit, webhooks
from firstmark.services.conversions import outbox_for
from firstmark.store import Store

# A sales cycle is longer than a web visit's: the deal goals look back this far for touches.
DEAL_WINDOW_DAYS = 90
GOAL_KINDS = {"won": "macro", "qualified": "micro"}


@dataclass(frozen=True, slots=True)
class Match:
    """What a deal was matched to, and what its conversion takes from it."""

    by: str | None
    reason: str
    consent: Consent = field(default_factory=Consent)
    visitor_id: str | None = None
    click_token: str | None = None
    link_id: int | None = None
    touch: Touch | None = None
    user_data: dict[str, str] = field(default_factory=dict)
    click_ids: dict[str, str] = field(default_factory=dict)


def _from_touches(by: str, reason: str, touches: Sequence[Touch], ts: float, goal: Goal) -> Match:
    """Touches exist only under analytics consent, click ids on them only under ads consent."""
    with_ids = [t for t in touches if t.click_ids]
    ads = bool(with_ids)
    last = touches[-1]
    return Match(
        by,
        reason,
        Consent(analytics=True, ad_storage=ads, ad_user_data=ads),
        visitor_id=last.visitor_id,
        click_token=last.click_token,
        touch=conversions.credited_touch(touches, ts, goal) or last,
        click_ids=conversions.touch_click_ids(with_ids[-1]) if with_ids else {},
    )


def _from_conversion(by: str, reason: str, earlier: Conversion) -> Match:
    return Match(
        by,
        reason,
        earlier.consent,
        visitor_id=earlier.visitor_id,
        click_token=earlier.click_token,
        link_id=earlier.link_id,
        touch=Touch(
            ts=earlier.ts,
            link_id=earlier.link_id,
            utm_source=earlier.utm_source,
            utm_medium=earlier.utm_medium,
            utm_campaign=earlier.utm_campaign,
        ),
        user_data=dict(earlier.user_data),
    )


def _kind(earlier: Conversion) -> str:
    return "call" if earlier.source == "call" else "conversion"


async def match(store: Store, signer: ClickSigner, deal: Deal, goal: Goal) -> Match:
    """The strongest match of a deal, or why there is none."""
    since = deal.ts - goal.window_days * 86400
    misses: list[str] = []
    if deal.click_token is not None:
        click = signer.verify(deal.click_token)
        if click is None:
            misses.append("click_token was not issued by this server")
        elif click.ts > deal.ts:
            misses.append("click_token is of a click after the deal")
        else:
            touches = await store.touches_for(None, deal.click_token, since, deal.ts)
            found = (
                _from_touches("click_token", "", touches, deal.ts, goal)
                if touches
                else Match("click_token", "")
            )
            return replace(
                found,
                reason=f"the click on link {click.link_id}",
                click_token=deal.click_token if touches else None,
                link_id=click.link_id,
            )
    if deal.order_id is not None:
        earlier = await store.conversion_by_order(deal.order_id, deal.ts)
        if earlier is not None:
            return _from_conversion("order_id", f"{_kind(earlier)} {earlier.id}", earlier)
        misses.append("no earlier conversion with this order_id")
    if deal.visitor_id is not None:
        touches = await store.touches_for(deal.visitor_id, None, since, deal.ts)
        if touches:
            return _from_touches("visitor_id", f"{len(touches)} visits", touches, deal.ts, goal)
        misses.append(f"no visit of this visitor_id in the {goal.window_days} days before")
    for kind in ("gclid", "fbclid"):
        value = getattr(deal, kind)
        if value is None:
            continue
        touches = await store.touches_by_click_id(kind, value, since, deal.ts)
        if touches:
            return _from_touches(kind, f"the visit with this {kind}", touches, deal.ts, goal)
        misses.append(f"no visit with this {kind} in the {goal.window_days} days before")
    for key, name in (("em", "email"), ("ph", "phone")):
        hashed = deal.user_data.get(key)
        if hashed is None:
            continue
        earlier = await store.conversion_by_user_hash(key, hashed, deal.ts)
        if earlier is not None:
            return _from_conversion(name, f"{_kind(earlier)} {earlier.id}", earlier)
        misses.append(f"no earlier conversion or call with ads consent holds this {name}")
    return Match(None, "; ".join(misses) or "no identifier to match on")


async def _goals(store: Store, dry_run: bool) -> dict[str, Goal]:
    """The goal of each converting stage, added on first use."""
    by_name = {g.name: g for g in await store.list_goals()}
    out: dict[str, Goal] = {}
    for stage, name in STAGE_GOALS.items():
        goal = by_name.get(name)
        if goal is None:
            goal = Goal(name=name, kind=GOAL_KINDS[stage], window_days=DEAL_WINDOW_DAYS, id=0)
            if not dry_run:
                try:
                    goal = await store.insert_goal(replace(goal, id=None))
                except Conflict:  # added meanwhile by another import
                    goal = {g.name: g for g in await store.list_goals()}[name]
        out[stage] = goal
    return out


def to_conversion(
    deal: Deal, goal: Goal, found: Match, action_source: str, *, exempt: bool = False
) -> Conversion:
    """The deal's conversion: the matched record's identifiers, channel and consent; the
    deal's own click id and hashed e-mail/phone added (kept only as that consent allows).
    Exempt mode keeps the channel and the value, nothing that links the buyer."""
    own_ids = {k: v for k in ("gclid", "fbclid") if (v := getattr(deal, k)) is not None}
    conv = conversions.build(
        goal,
        event_id=deal.event_id,
        ts=deal.ts,
        consent=found.consent,
        source="server",
        value=deal.value,
        currency=deal.currency,
        order_id=deal.order_id,
        visitor_id=found.visitor_id,
        click_token=found.click_token,
        link_id=found.link_id,
        touch=found.touch,
        click_ids={**found.click_ids, **own_ids},
        user_data={**found.user_data, **deal.user_data},
    )
    if exempt:
        conv = replace(
            conv,
            consent=exempt_consent(conv.consent),
            visitor_id=None,
            click_token=None,
            user_data={},
            click_ids={},
        )
    return replace(conv, action_source=action_source)


async def import_deals(
    store: Store,
    signer: ClickSigner,
    deals: Sequence[Deal],
    *,
    actor: str,
    preset: str | None = None,
    action_source: str = "system_generated",
    dry_run: bool = False,
    exempt: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Match and store the deals; the report of matched and unmatched rows and why. `actor`
    is who the audit log names; `preset` the export's format (None for JSON deals).
    `progress(deals matched, deals)` as the matching goes."""
    if action_source not in ACTION_SOURCES:
        raise InvalidField("action_source", f"action_source takes {', '.join(ACTION_SOURCES)}")
    goals = await _goals(store, dry_run)
    rows: list[dict[str, Any]] = []
    built: list[Conversion] = []
    for done, deal in enumerate(deals):
        if progress is not None:
            progress(done, len(deals))
        line: dict[str, Any] = {"row": deal.row, "deal_id": deal.deal_id, "stage": deal.stage}
        if not deal.converts:
            rows.append({**line, "matched_by": None, "reason": "a lost deal is no conversion"})
            continue
        goal = goals[deal.stage]
        found = await match(store, signer, deal, goal)
        rows.append({**line, "event_id": deal.event_id, "matched_by": found.by,
                     "reason": found.reason})  # fmt: skip
        built.append(to_conversion(deal, goal, found, action_source, exempt=exempt))
    if progress is not None and deals:
        progress(len(deals), len(deals))
    imported = 0
    if built and not dry_run:
        saved = await store.insert_conversions(built, await outbox_for(store, built))
        new = [c for c, duplicate in saved if not duplicate]
        imported = len(new)
        await webhooks.conversions_created(store, new)
        by_event = {c.event_id: duplicate for c, duplicate in saved}
        for line in rows:
            if "event_id" in line:
                line["duplicate"] = by_event.get(line["event_id"], True)
    matched = sum(r["matched_by"] is not None for r in rows)
    counts = {"imported": imported, "matched": matched, "unmatched": len(rows) - matched}
    if not dry_run:
        # Counts only: a deal's id, value, e-mail or phone is CRM content, not the log's.
        detail = {"preset": preset, "rows": len(rows), **counts, "action_source": action_source}
        await audit.record(store, actor, "import", "deal", None, detail)
    return {**counts, "dry_run": dry_run, "action_source": action_source, "rows": rows}
