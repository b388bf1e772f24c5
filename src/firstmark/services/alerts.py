"""Alert checks in `firstmark serve`: every FIRSTMARK_ALERT_INTERVAL_S, on one node, read the
figures each check of domain/alerts.py judges, store the occurrences that are new (and resolve
those no longer found), and deliver the new ones: the `alert.raised` webhook, and one e-mail
listing them when a relay and recipients are set. The KPI checks (services/kpialerts.py) judge
whole days, so they run once a UTC day, from FIRSTMARK_ALERT_KPI_HOUR on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from firstmark.config import Settings
from firstmark.domain import alerts
from firstmark.domain.alerts import Alert, Raised, Traffic
from firstmark.domain.links import Link
from firstmark.domain.sites import Site
from firstmark.services import kpialerts, linkcheck, mail, summary, webhooks
from firstmark.store import Store

log = logging.getLogger("firstmark.alerts")
EVENT = "alert.raised"
DAY = 86_400.0


async def traffic(
    store: Store, links: Sequence[Link], sites: Sequence[Site], now: float
) -> list[Traffic]:
    """The human traffic of these links and sites: each of the whole UTC days before the last
    24 hours began, and the last 24 hours. Links with a quiet day are not read further."""
    quiet_from = now - alerts.QUIET_S
    last_day = quiet_from - quiet_from % DAY  # the midnight the 24 hours' first day began
    first_day = last_day - alerts.STEADY_DAYS * DAY
    wanted = {link.id: link for link in links if link.id is not None}
    daily: dict[int, list[int]] = {link_id: [] for link_id in wanted}
    for n in range(alerts.STEADY_DAYS):
        start = first_day + n * DAY
        found = await store.traffic_totals(("link",), start, start + DAY)
        counts = {t.key[0]: t.clicks + t.scans for t in found}
        for link_id, days in daily.items():
            days.append(int(counts.get(link_id, 0)))
    out: list[Traffic] = []
    for link_id, days in daily.items():
        if not all(days):
            continue  # not steady: the last 24 hours need no reading
        rows = await store.rollups([link_id], quiet_from, now)
        last = sum(r.hits - r.bot_hits for r in rows)
        out.append(Traffic("link", link_id, wanted[link_id].code, days, last))
    for site in sites:
        if site.id is None:
            continue
        sums = await store.web_totals(site.id, {}, first_day, last_day, "day")
        visits = {int(s.key): s.visits for s in sums if s.key is not None}
        first = int(first_day // DAY)
        days = [visits.get(first + n, 0) for n in range(alerts.STEADY_DAYS)]
        if not all(days):
            continue
        last = sum(s.visits for s in await store.web_totals(site.id, {}, quiet_from, now))
        out.append(Traffic("site", site.id, site.hosts[0] if site.hosts else site.name, days, last))
    return out


async def findings(
    store: Store, settings: Settings, now: float, kpis: bool = True
) -> dict[str, list[Alert]]:
    """What every check finds now, by kind (a kind with nothing found resolves its alerts).
    Without `kpis` the KPI checks are left out: their alerts stand as they are."""
    links = await linkcheck.active_links(store)
    codes = {link.id: link.code for link in links if link.id is not None}
    dead = sum(
        n
        for _, status, n, _ in await store.delivery_health(now - alerts.DEAD_LETTER_WINDOW_S)
        if status == "dead"
    )
    found = {
        alerts.NEEDS_REAUTH: alerts.needs_reauth(await store.list_destinations()),
        alerts.DEAD_LETTERS: alerts.dead_letters(dead, settings.alert_dead_letters),
        alerts.LINK_FAILING: alerts.failing_links(codes, await store.health_for(list(codes))),
        alerts.TRAFFIC_STOPPED: alerts.traffic_stopped(
            await traffic(store, links, await store.list_sites(), now)
        ),
    }
    if kpis:
        found[alerts.KPI_CHANGED] = await kpialerts.changes(store, settings, now)
    return found


async def check(
    store: Store, settings: Settings, now: float | None = None, kpis: bool = True
) -> list[Raised]:
    """One round: resolve what is no longer found, store what is new; the new occurrences."""
    now = time.time() if now is None else now
    found = await findings(store, settings, now, kpis)
    open_now = await store.list_alerts(open_only=True, limit=100_000)
    raised: list[Raised] = []
    for kind, alerts_found in found.items():
        subjects = [a.subject for a in open_now if a.kind == kind]
        new, gone = alerts.opened_and_resolved(subjects, alerts_found)
        await store.resolve_alerts(kind, gone, now)
        raised.extend(await store.raise_alerts(new, now))
    return raised


def subject(raised: Sequence[Raised]) -> str:
    if len(raised) == 1:
        return f"firstmark alert: {raised[0].label}"
    return f"firstmark: {len(raised)} new alerts"


def render(raised: Sequence[Raised], base_url: str) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the e-mail that tells these new alerts."""
    title = subject(raised)
    values = {"alerts": raised, "subject": title, "base_url": base_url.rstrip("/")}
    text = summary.environment(False).get_template("email/alerts.txt").render(values)
    html = summary.environment(True).get_template("email/alerts.html").render(values)
    return title, text, html


async def deliver(store: Store, settings: Settings, raised: Sequence[Raised]) -> None:
    """The `alert.raised` webhook of each (once per endpoint: keyed by the alert), then one
    e-mail listing them all when a relay and recipients are set."""
    if not raised:
        return
    for alert in raised:
        await webhooks.emit(store, EVENT, {"alert": alerts.to_json(alert)}, key=f"{alert.id}")
    if settings.smtp_url and settings.report_to:
        title, text, html = render(raised, settings.base_url)
        await mail.send(settings, settings.report_to, title, text, html)


def kpi_day(settings: Settings, now: float) -> int | None:
    """The UTC day (since the epoch) whose KPI checks are due at `now`; None before
    FIRSTMARK_ALERT_KPI_HOUR, when the day's costs may not be imported yet."""
    if now % DAY < settings.alert_kpi_hour * 3600:
        return None
    return int(now // DAY)


async def check_and_deliver(
    store: Store, settings: Settings, kpis: bool = True
) -> list[Raised] | None:
    """One round under the alert lock; None when another node is checking."""
    async with store.alert_lock() as mine:
        if not mine:
            return None
        raised = await check(store, settings, kpis=kpis)
    if raised:
        log.info("alerts raised: %s", ", ".join(f"{a.kind} {a.subject}" for a in raised))
    await deliver(store, settings, raised)
    return raised


async def run_forever(store: Store, settings: Settings) -> None:
    """The background job of `firstmark serve`: a round every FIRSTMARK_ALERT_INTERVAL_S,
    with the KPI checks in the first round of each day that runs here. Another node that
    checks the same day finds its KPI alerts standing already and tells no one again."""
    checked: int | None = None
    while True:
        await asyncio.sleep(settings.alert_interval_s)
        due = kpi_day(settings, time.time())
        try:
            done = await check_and_deliver(store, settings, kpis=due not in (None, checked))
        except Exception:
            log.exception("alert check failed")
            continue
        if done is not None and due is not None:
            checked = due
