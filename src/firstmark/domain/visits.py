"""Visits: a site's pageviews and events grouped the way a person browses (docs/web.md).

A visit is one visitor's pageviews and events on one site with less than 30 minutes between
them. The visitor is the `sid` the script sends when analytics consent holds, else the
daily-salted visitor hash (so without consent a visit never outlives its UTC day, and nothing
that identifies anyone is kept). A landing with a new campaign or a new ad click id starts a new
visit even inside the 30 minutes (GA4 does the same). The visit's entry decides its source,
medium, campaign, referrer and channel; later pages only extend it.

`advance` is the whole rule: the open visit of a key (or None) and one event in, the visit
after it out. The event writer (ingest/visits.py) keeps open visits and stores each change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from firstmark.domain import channels
from firstmark.domain.channels import Origin, Rule
from firstmark.domain.events import Event, Touch

TIMEOUT_S = 30 * 60
MAX_DURATION_S = 24 * 3600  # a visit kept alive all day long is cut at a day's length


@dataclass(frozen=True, slots=True)
class Landing:
    """What an event's page says about where the visitor came from: its UTM tags and ad click
    ids (kinds and, with ads consent, values), its external referrer (None when excluded)."""

    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    click_ids: tuple[str, ...] = ()  # kinds, sorted
    referrer: str | None = None
    link_id: int | None = None

    @property
    def tagged(self) -> bool:
        """Whether the page was reached through a campaign or an ad (a new visit if it differs
        from the open one's)."""
        return bool(self.utm_source or self.utm_campaign or self.click_ids or self.link_id)

    def campaign_key(self) -> tuple[object, ...]:
        return (self.utm_source, self.utm_medium, self.utm_campaign, self.click_ids, self.link_id)


@dataclass(slots=True)
class Visit:
    """A visit as stored. `key` is the session id or the day's visitor hash; `visitor_id` only
    with analytics consent. Mutable: `advance` extends an open visit in place."""

    site_id: int
    key: str
    started: float
    last_ts: float
    visitor_day_hash: str
    entry_path: str
    exit_path: str
    pageviews: int
    events: int
    source: str
    medium: str
    channel: str
    visitor_id: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None
    referrer_host: str | None = None
    click_ids: str = ""  # the kinds, comma separated
    link_id: int | None = None
    country: str | None = None
    device_type: str | None = None
    browser: str | None = None
    os: str | None = None
    is_bot: bool = False
    conversions: int = 0
    revenue: float = 0.0
    id: int | None = None

    @property
    def duration_s(self) -> float:
        return min(self.last_ts - self.started, MAX_DURATION_S)

    @property
    def bounce(self) -> bool:
        """One pageview and no event (Plausible's and GA4's reading)."""
        return self.pageviews <= 1 and self.events == 0

    @property
    def converted(self) -> bool:
        return self.conversions > 0

    @property
    def direct(self) -> bool:
        return self.channel == channels.DIRECT

    @property
    def day(self) -> int:
        return int(self.started // 86400)

    @property
    def visitor(self) -> str:
        """Who is counted as one visitor: the consented visitor id, else the day's hash."""
        return self.visitor_id or self.visitor_day_hash


def visit_key(event: Event) -> str:
    """The session id under analytics consent (the event row keeps it only then), else the
    day's visitor hash; prefixed so the two can never meet."""
    if event.session_id:
        return f"s:{event.session_id}"
    return f"h:{event.visitor_day_hash}"


def landing_of(
    event: Event,
    click_ids: Sequence[str],
    *,
    rules: Sequence[Rule] = (),
    own_hosts: Sequence[str] = (),
) -> Landing:
    """The landing facts of one stored event: its UTM tags, ad click id kinds and referrer
    (dropped when it is the site's own, a payment page or an operator's exclusion)."""
    referrer = event.referrer_host
    if channels.excluded(referrer, rules, own_hosts):
        referrer = None
    return Landing(
        event.utm_source, event.utm_medium, event.utm_campaign, event.utm_term,
        event.utm_content, tuple(sorted(click_ids)), referrer, event.link_id,
    )  # fmt: skip


def starts_new(visit: Visit | None, event: Event, landing: Landing) -> bool:
    """Whether `event` opens a new visit rather than extending `visit`."""
    if visit is None or event.ts - visit.last_ts > TIMEOUT_S or event.ts < visit.started:
        return True
    if event.ts - visit.started > MAX_DURATION_S:
        return True
    if landing.tagged:
        entry = (visit.source, visit.medium, visit.campaign)
        source, medium = channels.source_medium(
            landing.utm_source, landing.utm_medium, landing.referrer, landing.click_ids
        )
        kinds = tuple(visit.click_ids.split(",")) if visit.click_ids else ()
        # A reload of the landing page keeps the visit; another campaign or ad click does not.
        same = entry == (source, medium, landing.utm_campaign) and kinds == landing.click_ids
        return not same or landing.link_id not in (None, visit.link_id)
    return False


def advance(
    visit: Visit | None,
    event: Event,
    landing: Landing,
    *,
    key: str,
    browser: str | None,
    os: str | None,
    rules: Sequence[Rule] = (),
) -> tuple[Visit, bool]:
    """The visit after `event`, and whether it is a new one."""
    pageview = event.kind == "pageview"
    if visit is not None and not starts_new(visit, event, landing):
        # In place: the writer owns its open visits, and this runs for every event.
        visit.last_ts = max(visit.last_ts, event.ts)
        if pageview:
            visit.exit_path = event.path
            visit.pageviews += 1
        else:
            visit.events += 1
        visit.visitor_id = visit.visitor_id or event.visitor_id
        return visit, False
    source, medium = channels.source_medium(
        landing.utm_source, landing.utm_medium, landing.referrer, landing.click_ids
    )
    origin = Origin(
        source, medium, landing.utm_campaign, landing.referrer, landing.click_ids, "visit"
    )
    started = Visit(
        site_id=event.site_id,
        key=key,
        started=event.ts,
        last_ts=event.ts,
        visitor_day_hash=event.visitor_day_hash,
        entry_path=event.path,
        exit_path=event.path,
        pageviews=int(pageview),
        events=int(not pageview),
        source=source,
        medium=medium,
        channel=channels.channel_of(origin, rules),
        visitor_id=event.visitor_id,
        campaign=landing.utm_campaign,
        term=landing.utm_term,
        content=landing.utm_content,
        referrer_host=landing.referrer,
        click_ids=",".join(landing.click_ids),
        link_id=landing.link_id,
        country=event.country,
        device_type=event.device_type,
        browser=browser,
        os=os,
        is_bot=event.is_bot,
    )
    return started, True


def converted(visit: Visit, value: float | None) -> Visit:
    """The visit with one more conversion (and its value) to its name (in place)."""
    visit.conversions += 1
    visit.revenue += value or 0.0
    return visit


def entry_touch(
    visit: Visit, *, click_ids: Mapping[str, str], click_token: str | None = None
) -> Touch | None:
    """The attribution touch of a new visit's entry (docs/privacy.md: consented visitors only, so
    journeys can link visits across days): its source, medium and campaign, its click ids
    (given only with ads consent). Direct entries are touches too: they never take the credit
    from an earlier channel in last-touch, and share it in the other models."""
    if visit.visitor_id is None or visit.is_bot:
        return None
    direct = visit.direct
    return Touch(
        ts=visit.started,
        site_id=visit.site_id,
        visitor_id=visit.visitor_id,
        click_token=click_token,
        link_id=visit.link_id,
        utm_source=None if direct else visit.source,
        utm_medium=None if direct else visit.medium,
        utm_campaign=None if direct else visit.campaign,
        utm_term=None if direct else visit.term,
        utm_content=None if direct else visit.content,
        click_ids=dict(click_ids),
    )


def visit_touch(visit: Visit) -> Touch:
    """A visit's entry as the touch a conversion without a visitor id is credited to (its
    source, medium and campaign; nothing that identifies anyone)."""
    return Touch(
        ts=visit.started,
        site_id=visit.site_id,
        link_id=visit.link_id,
        utm_source=visit.source,
        utm_medium=visit.medium,
        utm_campaign=visit.campaign,
        utm_term=visit.term,
        utm_content=visit.content,
    )
