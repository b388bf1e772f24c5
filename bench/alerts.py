"""Time one round of the KPI alert checks over 200 campaigns x 35 days on SQLite.

Usage (from the repository root):

    .venv/bin/python bench/alerts.py [--campaigns 200] [--drops 10]

Seeding goes through the store (a tagged link per campaign with its human clicks, conversions
of 40-80 EUR, a day's ad cost per campaign, spread over 6 channels); it is not what is
measured. `--drops` campaigns earn 0.45 times as much per order over the last 7 days. Then it
times `services.kpialerts.changes` (every channel and campaign read with the Reports page's
code, then judged), 5 runs after a warm-up, and prints the median, the worst, and how many of
the dropped campaigns were raised and how many others were (which should be none).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from firstmark.config import Settings  # noqa: E402
from firstmark.domain.consent import Consent  # noqa: E402
from firstmark.domain.conversions import Conversion  # noqa: E402
from firstmark.domain.costs import CostRow  # noqa: E402
from firstmark.domain.goals import Goal  # noqa: E402
from firstmark.domain.hits import Hit  # noqa: E402
from firstmark.domain.links import Link  # noqa: E402
from firstmark.services import kpialerts  # noqa: E402
from firstmark.store import Store, create_store  # noqa: E402

DAY = 86_400
SOURCES = [("google", "cpc"), ("facebook", "paid-social"), ("newsletter", "email"),
           ("bing", "cpc"), ("linkedin", "paid-social"), ("partner", "affiliate")]  # fmt: skip
FULL = Consent(analytics=True, ad_storage=True, ad_user_data=True, ad_personalization=False)


def hit(link_id: int, ts: float, visitor: str) -> Hit:
    return Hit(link_id, ts, "click", visitor, "NO", None, None, "mobile", "iOS", "Safari",
               None, False, None, None)  # fmt: skip


async def seed(store: Store, campaigns: int, drops: int, today: int) -> None:
    rng = random.Random(7)
    goal = await store.insert_goal(Goal("purchase"))
    assert goal.id is not None
    costs: list[CostRow] = []  # one import: an import replaces its days' costs
    for c in range(campaigns):
        source, medium = SOURCES[c % len(SOURCES)]
        name = f"campaign-{c:03d}"
        link = await store.insert_link(
            Link(destination="https://shop.example/", code=f"c{c}", utm_source=source,
                 utm_medium=medium, utm_campaign=name)
        )  # fmt: skip
        assert link.id is not None
        hits, conversions = [], []
        for back in range(1, 36):
            day = today - back
            factor = 0.45 if c < drops and back <= 7 else 1.0
            for n in range(rng.randint(40, 60)):
                hits.append(hit(link.id, day * DAY + rng.uniform(0, DAY), f"v{c}-{day}-{n}"))
            for n in range(rng.randint(3, 7)):
                conversions.append(
                    Conversion(f"{c}-{day}-{n}", goal.id, day * DAY + rng.uniform(0, DAY), FULL,
                               "server", value=round(rng.uniform(40, 80) * factor, 2),
                               currency="EUR", link_id=link.id)
                )  # fmt: skip
            spend = Decimal(str(round(rng.uniform(80, 120), 2)))
            costs.append(CostRow(date(1970, 1, 1) + timedelta(days=day), source, medium, name,
                                 spend, "EUR"))  # fmt: skip
        await store.write_hits(hits)
        await store.insert_conversions(conversions)
    await store.replace_costs(costs)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=200)
    parser.add_argument("--drops", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fm-alerts-"))
    store = create_store(f"sqlite:///{folder / 'fm.db'}")
    await store.open()
    await store.migrate()
    today = int(time.time() // DAY)
    started = time.perf_counter()
    await seed(store, args.campaigns, args.drops, today)
    print(f"seeded {args.campaigns} campaigns x 35 days in {time.perf_counter() - started:.0f} s")
    settings = Settings()
    now = today * DAY + 8 * 3600.0
    timings = []
    found = []
    for _ in range(6):
        started = time.perf_counter()
        found = await kpialerts.changes(store, settings, now)
        timings.append(time.perf_counter() - started)
    runs = timings[1:]
    print(f"one check: median {statistics.median(runs) * 1000:.0f} ms, "
          f"worst {max(runs) * 1000:.0f} ms")  # fmt: skip
    dropped = {f"campaign-{c:03d}" for c in range(args.drops)}
    hit_campaigns = {a.subject.split(":")[1] for a in found if a.subject.startswith("campaign:")}
    print(f"dropped campaigns raised: {len(hit_campaigns & dropped)} of {len(dropped)}; "
          f"others raised: {len(hit_campaigns - dropped)}; channel alerts: "
          f"{sum(a.subject.startswith('channel:') for a in found)}")  # fmt: skip
    await store.close()


if __name__ == "__main__":
    asyncio.run(main())
