"""A realistic demo dataset: 90 days of a shop's marketing, generated, never real people.

Channels: Google search ads, Meta ads, LinkedIn ads, a newsletter, printed QR codes (a poster,
a flyer run, a trade-fair stand) and an event. Traffic follows the week (quieter weekends) and
the campaigns' flights, a few link previewers and crawlers come by, paid channels have their
daily spend, impressions and ad clicks, and some visitors come back through another channel and
buy or sign up. People call, too: a tracking number printed on the Oslo poster, and a pool of
five the shop's pages swap in per visitor session. Deterministic for a seed, so a demo looks
the same twice.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from firstmark.domain.costs import CostRow
from firstmark.domain.events import Touch
from firstmark.domain.hits import Hit
from firstmark.domain.links import Link

DAY = 86_400
DAYS = 90


@dataclass(frozen=True)
class Channel:
    code: str
    destination: str
    source: str
    medium: str
    campaign: str
    content: str | None = None
    daily: float = 40.0  # mean human clicks a weekday
    cpc: Decimal | None = None  # paid: spend per ad click
    ctr: float = 0.02  # paid: ad clicks per impression
    qr: bool = False
    placement: str | None = None
    starts: int = 0  # first day of the flight, counted from the start of the demo
    ends: int = DAYS


CHANNELS = (
    Channel("brand-search", "https://shop.example/", "google", "cpc", "brand", "ad-a", 120,
            Decimal("0.45"), 0.08),
    Channel("spring-search", "https://shop.example/spring", "google", "cpc", "spring-sale",
            "ad-b", 90, Decimal("0.95"), 0.04, starts=30, ends=75),
    Channel("spring-meta", "https://shop.example/spring", "facebook", "paid-social",
            "spring-sale", "carousel", 70, Decimal("0.60"), 0.012, starts=30, ends=75),
    Channel("retarget-meta", "https://shop.example/cart", "facebook", "paid-social",
            "retargeting", "dynamic", 25, Decimal("0.80"), 0.02),
    Channel("b2b-linkedin", "https://shop.example/business", "linkedin", "paid-social",
            "b2b-webinar", "sponsored", 15, Decimal("4.20"), 0.006, starts=10, ends=60),
    Channel("news-weekly", "https://shop.example/news", "newsletter", "email", "weekly",
            None, 45),
    Channel("news-spring", "https://shop.example/spring", "newsletter", "email",
            "spring-sale", None, 60, starts=31, ends=40),
    Channel("poster-oslo", "https://shop.example/spring", "print", "qr", "spring-sale",
            "poster-oslo-s", 18, qr=True, placement="poster-oslo-s", starts=28, ends=80),
    Channel("flyer-run-1", "https://shop.example/spring", "print", "qr", "spring-sale",
            "flyer-run-1", 9, qr=True, placement="flyer-run-1", starts=28, ends=60),
    Channel("fair-stand", "https://shop.example/fair", "event", "qr", "trade-fair",
            "stand-b12", 70, qr=True, placement="trade-fair-stand-b12", starts=50, ends=53),
)  # fmt: skip

# Tracking numbers from Ofcom's range for fiction (London 020 7946 0xxx): the poster's static
# number, the web pool's five, and the shop's own line they forward to.
SHOP_LINE = "+442079460999"
STATIC_NUMBER = "+442079460100"
POSTER = 7  # the CHANNELS entry whose poster the static number is printed on
POOL = "web"
POOL_NUMBERS = tuple(f"+44207946{n:04d}" for n in range(101, 106))
# How a call ends: (status, weight); a completed call's talk time is drawn apart.
CALL_ENDS = (("completed", 72), ("no-answer", 12), ("busy", 8), ("canceled", 8))

COUNTRIES = (("NO", 40), ("SE", 18), ("DK", 12), ("DE", 12), ("GB", 8), ("US", 6), ("NL", 4))
DEVICES = (
    ("mobile", "iOS", "Mobile Safari", 38),
    ("mobile", "Android", "Chrome Mobile", 27),
    ("desktop", "Windows", "Chrome", 18),
    ("desktop", "Mac OS X", "Safari", 9),
    ("desktop", "Windows", "Edge", 5),
    ("tablet", "iOS", "Mobile Safari", 3),
)
LANGS = {"NO": "nb", "SE": "sv", "DK": "da", "DE": "de", "GB": "en", "US": "en", "NL": "nl"}
REFERRERS = {"google": "google.com", "facebook": "m.facebook.com", "linkedin": "linkedin.com"}
BOTS = ("preview:Slackbot", "crawler:Googlebot", "preview:facebookexternalhit", "tool:curl")


@dataclass(frozen=True)
class Demo:
    """The links to create (their ids come from the store) and the days the demo covers; the
    rest is generated against them."""

    links: list[Link]
    days: list[date]


@dataclass(frozen=True)
class Journey:
    """A visitor who converted: their touches (link index, seconds before the conversion)."""

    visitor: str
    ts: float
    touches: tuple[tuple[int, float], ...]
    goal: str
    value: Decimal | None


@dataclass(frozen=True)
class DemoCall:
    """A call to one of the demo's numbers: 0 is the poster's, 1-5 the pool's. `channel` is
    the CHANNELS entry of the visitor session a pool number was swapped into (None: the page
    was opened directly)."""

    number: int
    ts: float
    status: str
    talk_s: int | None
    caller: str
    channel: int | None


def plan(today: date) -> Demo:
    start = today - timedelta(days=DAYS - 1)
    links = [
        Link(
            destination=c.destination,
            code=c.code,
            utm_source=c.source,
            utm_medium=c.medium,
            utm_campaign=c.campaign,
            utm_content=c.content,
            campaign=c.campaign,
            tags=("demo", "print") if c.qr else ("demo",),
            kind="qr" if c.qr else "link",
            placement=c.placement,
        )
        for c in CHANNELS
    ]
    return Demo(links, [start + timedelta(days=i) for i in range(DAYS)])


def _weighted(rng: random.Random, options: tuple[tuple[object, ...], ...]) -> tuple[object, ...]:
    weights = [float(o[-1]) for o in options]  # type: ignore[arg-type]  # the last is a weight
    return rng.choices(options, weights=weights)[0]


def _volume(channel: Channel, day_index: int, weekday: int, rng: random.Random) -> int:
    if not channel.starts <= day_index < channel.ends:
        return 0
    weekly = 0.65 if weekday >= 5 else 1.0
    if channel.medium == "email":  # a newsletter lands on Tuesdays, then fades
        weekly = 3.0 * math.exp(-((weekday - 1) % 7) / 1.5)
    mean = channel.daily * weekly * (0.9 + 0.2 * rng.random())
    return max(0, int(rng.gauss(mean, math.sqrt(mean))))


def hits(demo: Demo, link_ids: list[int], seed: int = 7) -> Iterator[list[Hit]]:
    """The hits of each day, a day at a time."""
    rng = random.Random(seed)
    for day_index, day in enumerate(demo.days):
        base = (day - date(1970, 1, 1)).days * DAY
        batch: list[Hit] = []
        for channel, link_id in zip(CHANNELS, link_ids, strict=True):
            count = _volume(channel, day_index, day.weekday(), rng)
            kind = "scan" if channel.qr else "click"
            people = max(1, int(count * 0.8))  # some come back the same day
            for _ in range(count):
                hour = min(23, max(0, int(rng.gauss(14, 4))))
                ts = base + hour * 3600 + rng.randrange(3600)
                country = str(_weighted(rng, COUNTRIES)[0])
                device, os, browser, _ = _weighted(rng, DEVICES)
                visitor = f"{day_index:03d}{link_id:05d}{rng.randrange(people):06d}"
                referrer = None if channel.qr else REFERRERS.get(channel.source)
                batch.append(
                    Hit(link_id, float(ts), kind, visitor, country, None, None, str(device),
                        str(os), str(browser), referrer, False, None, LANGS[country])
                )  # fmt: skip
            for _ in range(rng.randrange(0, 3) if not channel.qr else 0):
                reason = rng.choice(BOTS)
                batch.append(
                    Hit(link_id, float(base + rng.randrange(DAY)), kind, "bot", "US", None,
                        None, "bot", "Other", "Other", None, True, reason, None)
                )  # fmt: skip
        batch.sort(key=lambda h: h.ts)
        yield batch


def costs(demo: Demo, seed: int = 11) -> list[CostRow]:
    """Daily spend of the paid channels, as their exports would have it."""
    rng = random.Random(seed)
    rows = []
    for day_index, day in enumerate(demo.days):
        for channel in CHANNELS:
            if channel.cpc is None or not channel.starts <= day_index < channel.ends:
                continue
            clicks = max(1, int(channel.daily * (0.7 if day.weekday() >= 5 else 1.0)))
            clicks = int(clicks * (0.85 + 0.3 * rng.random()))
            spend = (channel.cpc * clicks * Decimal(0.9 + 0.2 * rng.random())).quantize(
                Decimal("0.01")
            )
            impressions = int(clicks / channel.ctr)
            rows.append(
                CostRow(day, channel.source, channel.medium, channel.campaign, spend, "EUR",
                        impressions, clicks)
            )  # fmt: skip
    return rows


def journeys(demo: Demo, seed: int = 13) -> list[Journey]:
    """Visitors who bought or signed up, each after one to three touches."""
    rng = random.Random(seed)
    out = []
    for day_index, day in enumerate(demo.days):
        base = (day - date(1970, 1, 1)).days * DAY
        for index, channel in enumerate(CHANNELS):
            arrivals = _volume(channel, day_index, day.weekday(), rng)
            rate = 0.03 if channel.medium in ("cpc", "email") else 0.018
            for _ in range(sum(1 for _ in range(arrivals) if rng.random() < rate)):
                ts = float(base + rng.randrange(8 * 3600, 22 * 3600))
                path = [(index, rng.uniform(60, 3600))]
                for _ in range(rng.choice((0, 0, 1, 1, 2))):
                    path.append((rng.randrange(len(CHANNELS)), rng.uniform(3600, 20 * DAY)))
                path.sort(key=lambda t: -t[1])
                if rng.random() < 0.7:
                    value = Decimal(rng.choice((29, 49, 79, 129, 249))) + Decimal("0.90")
                    goal = "purchase"
                else:
                    value, goal = None, "newsletter-signup"
                out.append(
                    Journey(f"demo-{rng.getrandbits(40):010x}", ts, tuple(path), goal, value)
                )
    return out


def touches_of(journey: Journey, link_ids: list[int]) -> list[Touch]:
    return [
        Touch(
            journey.ts - before,
            visitor_id=journey.visitor,
            link_id=link_ids[index],
            utm_source=CHANNELS[index].source,
            utm_medium=CHANNELS[index].medium,
            utm_campaign=CHANNELS[index].campaign,
            utm_content=CHANNELS[index].content,
        )
        for index, before in journey.touches
    ]


def calls(demo: Demo, seed: int = 17) -> list[DemoCall]:
    """A few calls a day: to the poster's number while it hangs, and to the pool's numbers
    from visitors of the web channels (more from the busier ones), most of them answered."""
    rng = random.Random(seed)
    web = [i for i, c in enumerate(CHANNELS) if not c.qr]
    out = []
    for day_index, day in enumerate(demo.days):
        base = (day - date(1970, 1, 1)).days * DAY
        weekend = day.weekday() >= 5
        poster = CHANNELS[POSTER]
        on_poster = poster.starts <= day_index < poster.ends
        planned: list[tuple[int, int | None]] = []
        for _ in range(rng.choice((0, 1, 1, 2) if weekend else (0, 1, 2, 2, 3))):
            if on_poster:
                planned.append((0, None))  # the poster's number counts for the poster
        weights = [_volume(CHANNELS[i], day_index, day.weekday(), rng) for i in web]
        for _ in range(rng.choice((1, 2, 3) if weekend else (3, 4, 5, 6))):
            channel = rng.choices(web, weights=weights)[0] if any(weights) else None
            if rng.random() < 0.2:
                channel = None  # came to the site directly
            planned.append((1 + rng.randrange(len(POOL_NUMBERS)), channel))
        for number, channel in planned:
            status = str(_weighted(rng, CALL_ENDS)[0])
            talk = 5 + int(rng.expovariate(1 / 110)) if status == "completed" else None
            out.append(
                DemoCall(
                    number=number,
                    ts=float(base + rng.randrange(8 * 3600, 18 * 3600)),
                    status=status,
                    talk_s=talk,
                    caller=f"+4791{rng.randrange(10**6):06d}",
                    channel=channel,
                )
            )
    out.sort(key=lambda c: c.ts)
    return out
