"""The demo shop's website: 90 days of visits, generated, never real people.

Visitors arrive the ways a shop's visitors do: a Google or Bing search, a Google Ads click (gclid,
no short link), a Meta or LinkedIn ad, the newsletter, an answer in ChatGPT, Perplexity, Claude
or Gemini, a partner's blog, or by typing the address. They read a few pages, some sign up for
the newsletter, some buy; some come back days later through another channel (often direct) and
buy then. A few crawlers come by and are kept apart. Traffic follows the week and grows a
little over the quarter.

The events go through the same visit builder as real traffic (domain/visits.py), so the visits,
touches and conversions the demo writes are what `/e` would have made of them. Deterministic for
a seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from firstmark.domain import visits
from firstmark.domain.events import Event, Touch, in_visit
from firstmark.domain.funnels import Funnel, Step
from firstmark.domain.visits import Visit

DAY = 86_400
HOST = "shop.example"
DAILY = 260  # mean visits of a weekday at the start; the quarter ends ~25 % busier
PRODUCTS = ("/shoes/red", "/shoes/trail", "/shoes/city", "/bags/tote", "/bags/backpack")
PRICES = (29.9, 49.9, 79.9, 129.9, 249.9)
CONTENT = ("/blog/how-to-choose-running-shoes", "/blog/spring-lookbook", "/about", "/pricing")
# Funnels the demo site gets (step patterns as POST /api/v1/funnels takes them).
FUNNELS = (
    ("Checkout", (Step("page", "/shoes/*"), Step("page", "/cart"), Step("page", "/checkout"),
                  Step("event", "purchase")), "visit", 1),
    ("Blog to newsletter", (Step("page", "/blog/*"), Step("event", "newsletter-signup")),
     "days", 7),
)  # fmt: skip


@dataclass(frozen=True)
class Arrival:
    """One way in: its share of new visits, the landing it makes (tags, referrer, click id),
    the pages it lands on, and how likely such a visitor buys."""

    name: str
    share: float
    landings: tuple[str, ...]
    buy: float
    utm: tuple[str | None, str | None, str | None, str | None] = (None, None, None, None)
    referrers: tuple[str, ...] = ()
    click_id: str | None = None
    starts: int = 0  # first day (the spring flights run for part of the quarter)
    ends: int = 90


ARRIVALS = (
    Arrival("organic search", 0.30, ("/", "/shoes/red", "/blog/how-to-choose-running-shoes",
            "/shoes/trail"), 0.020, referrers=("google.com", "google.com", "google.co.uk",
            "bing.com", "duckduckgo.com", "ecosia.org")),
    Arrival("paid search", 0.14, ("/shoes/red", "/shoes/trail", "/spring"), 0.045,
            click_id="gclid"),
    Arrival("paid search tagged", 0.05, ("/spring",), 0.04,
            utm=("google", "cpc", "spring-sale", "running shoes"), click_id="gclid",
            starts=30, ends=75),
    Arrival("paid social", 0.10, ("/spring", "/bags/tote"), 0.015,
            utm=("facebook", "paid-social", "spring-sale", None), click_id="fbclid",
            starts=30, ends=75),
    Arrival("paid social b2b", 0.03, ("/business",), 0.01,
            utm=("linkedin", "paid-social", "b2b-webinar", None), starts=10, ends=60),
    Arrival("organic social", 0.05, ("/blog/spring-lookbook", "/"), 0.008,
            referrers=("instagram.com", "l.facebook.com", "reddit.com", "t.co")),
    Arrival("email", 0.08, ("/spring", "/", "/shoes/city"), 0.05,
            utm=("newsletter", "email", "weekly", None)),
    Arrival("ai assistants", 0.07, ("/", "/shoes/trail", "/blog/how-to-choose-running-shoes"),
            0.06, referrers=("chatgpt.com", "chatgpt.com", "perplexity.ai", "claude.ai",
            "gemini.google.com", "copilot.microsoft.com")),
    Arrival("referral", 0.06, ("/", "/bags/backpack"), 0.025,
            referrers=("runnersworld.example", "gearblog.example", "news.ycombinator.com")),
    Arrival("direct", 0.12, ("/", "/", "/cart"), 0.03),
)  # fmt: skip
COUNTRIES = (("DE", 30), ("US", 18), ("GB", 12), ("FR", 9), ("NL", 7), ("NO", 6), ("SE", 5),
             ("AT", 4), ("CH", 4), ("ES", 3), (None, 2))  # fmt: skip
DEVICES = (("mobile", "Chrome Mobile", "Android", 34), ("mobile", "Mobile Safari", "iOS", 24),
           ("desktop", "Chrome", "Windows", 20), ("desktop", "Safari", "macOS", 9),
           ("desktop", "Firefox", "Linux", 4), ("desktop", "Edge", "Windows", 5),
           ("tablet", "Mobile Safari", "iPadOS", 4))  # fmt: skip
RETURNS = (("direct", 0.5), ("email", 0.3), ("organic search", 0.2))
HOURS = (1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 9, 9, 8, 8, 8, 9, 10, 11, 10, 7, 4, 2)


@dataclass
class _Visitor:
    id: str | None  # the visitor id, with analytics consent only
    country: str | None
    device: tuple[str, str, str]  # device type, browser, OS
    touches: list[Touch] = field(default_factory=list)


@dataclass
class Win:
    """A goal reached: the event (index into the day's events), its goal, value and visit,
    and the touches to credit it from (the visitor's so far; None without consent, when the
    visit's own entry is credited)."""

    event: int
    goal: str
    value: float | None
    visit: Visit
    touches: list[Touch] | None


@dataclass
class Day:
    """One day of the site: its events (each naming its visit), the visits they make, the
    consented visitors' entry touches, and the goals reached."""

    events: list[Event] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    touches: list[Touch] = field(default_factory=list)
    wins: list[Win] = field(default_factory=list)


def _pick(rng: random.Random, options: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    return rng.choices(options, weights=[float(o[-1]) for o in options])[0]


def _arrival(rng: random.Random, day_index: int) -> Arrival:
    live = [a for a in ARRIVALS if a.starts <= day_index < a.ends]
    return rng.choices(live, weights=[a.share for a in live])[0]


def _pages(rng: random.Random, landing: str, buys: bool) -> list[str]:
    """The pages of one visit from its landing: a purchase walks through the checkout."""
    pages = [landing]
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
        pages.append(rng.choice((*PRODUCTS, *CONTENT, "/")))
    if buys:
        if not any(p in PRODUCTS for p in pages):
            pages.append(rng.choice(PRODUCTS))
        pages += ["/cart", "/checkout", "/thanks"]
    return pages


def _visit(
    out: Day, rng: random.Random, site_id: int, ts: float, who: _Visitor, arrival: Arrival,
    buys: bool, until: float,
) -> None:  # fmt: skip
    """One visit: its pageviews and goal through the visit builder, its entry touch (none
    that would end after `until`: the demo has no future)."""
    key = f"s:demo-s{rng.getrandbits(48):012x}" if who.id else f"h:{rng.getrandbits(64):016x}"
    source, medium, campaign, term = arrival.utm
    referrer = rng.choice(arrival.referrers) if arrival.referrers else None
    click_ids = {arrival.click_id: f"demo-{rng.getrandbits(40):010x}"} if arrival.click_id else {}
    common: dict[str, Any] = {
        "site_id": site_id, "visitor_day_hash": f"{rng.getrandbits(64):016x}",
        "consent": "full" if who.id else "none", "country": who.country,
        "device_type": who.device[0], "visitor_id": who.id,
        "session_id": key[2:] if who.id else None,
    }  # fmt: skip
    pages = _pages(rng, rng.choice(arrival.landings), buys)
    made = [
        Event(ts=ts, kind="pageview", name="pageview", path=pages[0], referrer_host=referrer,
              utm_source=source, utm_medium=medium, utm_campaign=campaign, utm_term=term,
              **common)
    ]  # fmt: skip
    at = ts
    for path in pages[1:]:
        at += rng.uniform(8, 150)
        made.append(Event(ts=at, kind="pageview", name="pageview", path=path, **common))
    goal: tuple[str, float | None] | None = None
    if buys:
        goal = ("purchase", rng.choice(PRICES))
    elif any(p.startswith("/blog/") for p in pages) and rng.random() < 0.15:
        goal = ("newsletter-signup", None)
    if goal is not None:
        at += rng.uniform(5, 60)
        made.append(Event(ts=at, kind="conversion", name=goal[0], path=pages[-1],
                          value=goal[1], currency="EUR" if goal[1] else None,
                          **common))  # fmt: skip
    if at > until:
        return
    visit: Visit | None = None
    for i, event in enumerate(made):
        landing = visits.landing_of(event, tuple(click_ids) if i == 0 else ())
        visit, _ = visits.advance(visit, event, landing, key=key, browser=who.device[1],
                                  os=who.device[2])  # fmt: skip
        out.events.append(in_visit(event, visit.key, visit.started))
    assert visit is not None
    if who.id is not None:
        touch = visits.entry_touch(visit, click_ids=click_ids)
        if touch is not None:
            who.touches.append(touch)
            out.touches.append(touch)
    if goal is not None:
        visits.converted(visit, goal[1])
        credit = list(who.touches) if who.id is not None else None
        out.wins.append(Win(len(out.events) - 1, goal[0], goal[1], visit, credit))
    out.visits.append(visit)


def _crawler(out: Day, rng: random.Random, site_id: int, ts: float) -> None:
    """A crawler's page: a visit kept apart as a bot's, in no report."""
    event = Event(site_id=site_id, ts=ts, kind="pageview", name="pageview", path="/",
                  visitor_day_hash=f"{rng.getrandbits(64):016x}", consent="none",
                  device_type="bot", is_bot=True, country="US")  # fmt: skip
    key = f"h:{event.visitor_day_hash}"
    visit, _ = visits.advance(None, event, visits.landing_of(event, ()), key=key,
                              browser="Bot", os=None)  # fmt: skip
    out.events.append(in_visit(event, visit.key, visit.started))
    out.visits.append(visit)


def site_days(
    site_id: int, days: Sequence[date], seed: int = 23, until: float = math.inf
) -> Iterator[Day]:
    """Each day's site traffic, oldest first, none after `until`. Consented visitors keep
    their id across days and some come back later (direct, the newsletter, a search) to buy;
    the others are a new daily hash every day."""
    rng = random.Random(seed)
    returning: list[_Visitor] = []
    for day_index, day in enumerate(days):
        base = (day - date(1970, 1, 1)).days * DAY
        growth = 1 + 0.25 * day_index / max(len(days) - 1, 1)
        mean = DAILY * growth * (0.7 if day.weekday() >= 5 else 1.0)
        out = Day()
        for n in range(max(0, round(rng.gauss(mean, mean * 0.08)))):
            # Busier in the day and evening (UTC), quiet at night.
            ts = float(base + rng.choices(range(24), weights=HOURS)[0] * 3600
                       + rng.randrange(3600))  # fmt: skip
            if returning and rng.random() < 0.12:
                who = returning.pop(rng.randrange(len(returning)))
                way = _pick(rng, RETURNS)[0]
                arrival = next(a for a in ARRIVALS if a.name == way)
                buys = rng.random() < 0.15
            else:
                arrival = _arrival(rng, day_index)
                who = _Visitor(
                    f"demo-v{rng.getrandbits(48):012x}" if rng.random() < 0.6 else None,
                    _pick(rng, COUNTRIES)[0],
                    _pick(rng, DEVICES)[:3],
                )
                buys = rng.random() < arrival.buy / 2  # ~2-3 % of visits buy
                if who.id is not None and not buys and rng.random() < 0.2:
                    returning.append(who)  # may come back another day
            _visit(out, rng, site_id, ts, who, arrival, buys, until)
            if n % 50 == 0 and ts + 1 <= until:
                _crawler(out, rng, site_id, ts + 1)
        if len(returning) > 2_000:
            del returning[:1_000]  # a visitor who has not come back in weeks will not
        yield out


def funnels(site_id: int) -> list[Funnel]:
    return [Funnel(site_id, name, steps, within, days) for name, steps, within, days in FUNNELS]
