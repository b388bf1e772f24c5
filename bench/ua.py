"""Time User-Agent parsing: ua-parser 1.x vs user-agents, and firstmark's cached wrappers.

Usage (from the repository root):

    .venv/bin/python bench/ua.py [--n 2000] [--seed 1]

Every "unseen" row parses UAs that no cache in the process has seen: each row gets its own
disjoint set of `--n` generated UAs (Chrome/Edge/Firefox/Safari/Samsung/in-app browsers on
Windows, macOS, Linux, ChromeOS, iOS, iPadOS and Android with random versions and device models),
so ua-parser's own 2,000-entry cache, the legacy parser's 200-entry cache behind user-agents,
crawlerdetect's 1,024-entry cache and our LRUs all miss. "cached" rows replay a set already seen.
The numbers in docs/adr/0002-user-agent-parsing.md come from this script.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

_SRC = Path(__file__).resolve().parents[1] / "src"

ANDROID_PHONES = [
    "Pixel 6",
    "Pixel 7 Pro",
    "Pixel 8",
    "SM-S911B",
    "SM-S918B",
    "SM-A536B",
    "SM-A145R",
    "SM-G991B",
    "Redmi Note 12",
    "M2101K6G",
    "CPH2451",
    "moto g(60)",
    "K",
]
ANDROID_TABLETS = ["SM-X710", "SM-T870", "SM-X200", "Lenovo TB-J606F", "KFTRWI"]
FB_DEVICES = ["iPhone14,2", "iPhone14,5", "iPhone15,2", "iPhone15,3", "iPhone16,1"]


def _chrome(rng: random.Random) -> str:
    return f"{rng.randint(100, 131)}.0.{rng.randint(4800, 6800)}.{rng.randint(0, 250)}"


def _ios(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(14, 18), rng.randint(0, 7), rng.randint(0, 3)


def generate(rng: random.Random) -> str:
    """One realistic UA with random versions."""
    kind = rng.randrange(12)
    chrome = _chrome(rng)
    android = rng.randint(9, 14)
    major, minor, patch = _ios(rng)
    ios = f"{major}_{minor}" + (f"_{patch}" if patch else "")
    webkit = "AppleWebKit/537.36 (KHTML, like Gecko)"
    if kind == 0:
        return f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {webkit} Chrome/{chrome} Safari/537.36"
    if kind == 1:
        edge = _chrome(rng)
        return (
            f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {webkit} Chrome/{chrome} "
            f"Safari/537.36 Edg/{edge}"
        )
    if kind == 2:
        firefox = rng.randint(100, 133)
        platform_ = rng.choice(
            [
                "Windows NT 10.0; Win64; x64",
                f"Macintosh; Intel Mac OS X 10.{rng.randint(12, 15)}",
                "X11; Linux x86_64",
                "X11; Ubuntu; Linux x86_64",
            ]
        )
        return f"Mozilla/5.0 ({platform_}; rv:{firefox}.0) Gecko/20100101 Firefox/{firefox}.0"
    if kind == 3:
        return (
            f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_{rng.randint(1, 7)}) "
            f"AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{major}.{minor} Safari/605.1.15"
        )
    if kind == 4:
        return (
            f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 "
            f"(KHTML, like Gecko) Version/{major}.{minor} Mobile/15E148 Safari/604.1"
        )
    if kind == 5:
        return (
            f"Mozilla/5.0 (iPad; CPU OS {ios} like Mac OS X) AppleWebKit/605.1.15 "
            f"(KHTML, like Gecko) Version/{major}.{minor} Mobile/15E148 Safari/604.1"
        )
    if kind == 6:
        model = rng.choice(ANDROID_PHONES)
        return (
            f"Mozilla/5.0 (Linux; Android {android}; {model}) {webkit} Chrome/{chrome} "
            "Mobile Safari/537.36"
        )
    if kind == 7:
        model = rng.choice(ANDROID_TABLETS)
        return (
            f"Mozilla/5.0 (Linux; Android {android}; {model}) {webkit} Chrome/{chrome} "
            "Safari/537.36"
        )
    if kind == 8:
        model = rng.choice([m for m in ANDROID_PHONES if m.startswith("SM-")])
        samsung = f"{rng.randint(18, 26)}.{rng.randint(0, 9)}"
        return (
            f"Mozilla/5.0 (Linux; Android {android}; {model}) {webkit} SamsungBrowser/{samsung} "
            f"Chrome/{chrome} Mobile Safari/537.36"
        )
    if kind == 9:
        fbav = f"{rng.randint(400, 480)}.0.0.{rng.randint(10, 60)}.{rng.randint(100, 120)}"
        return (
            f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 "
            f"(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/{fbav};"
            f"FBBV/{rng.randint(10**8, 10**9)};"
            f"FBDV/{rng.choice(FB_DEVICES)};FBMD/iPhone;FBSN/iOS;FBSV/{major}.{minor};FBSS/3;FBCR/;"
            "FBID/phone;FBLC/en_US;FBOP/80]"
        )
    if kind == 10:
        model = rng.choice(ANDROID_PHONES)
        insta = f"{rng.randint(250, 330)}.0.0.{rng.randint(10, 40)}.{rng.randint(100, 130)}"
        return (
            f"Mozilla/5.0 (Linux; Android {android}; {model} Build/TP1A.220624.014; wv) {webkit} "
            f"Version/4.0 Chrome/{chrome} Mobile Safari/537.36 Instagram {insta} Android"
        )
    cros = f"{rng.randint(14000, 16000)}.{rng.randint(0, 99)}.0"
    return f"Mozilla/5.0 (X11; CrOS x86_64 {cros}) {webkit} Chrome/{chrome} Safari/537.36"


CRAWLERS = [  # on crawlerdetect's list, not on ours: the slow "yes" path
    "Mozilla/5.0 (compatible; AhrefsBot/{v}; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/{v}~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 (compatible; MJ12bot/v{v}; http://mj12bot.com/)",
    "Mozilla/5.0 (compatible; DotBot/{v}; https://opensiteexplorer.org/dotbot)",
    "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 "
    "(compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot) {v}",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/{v}; "
    "+claudebot@anthropic.com)",
]


def generate_crawler(rng: random.Random) -> str:
    version = f"{rng.randint(1, 9)}.{rng.randint(0, 99)}.{rng.randint(0, 9999)}"
    return rng.choice(CRAWLERS).format(v=version)


def distinct_sets(
    count: int, size: int, seed: int, make: Callable[[random.Random], str] = generate
) -> Iterator[list[str]]:
    """`count` disjoint lists of `size` distinct UAs."""
    rng = random.Random(seed)
    seen: set[str] = set()
    for _ in range(count):
        batch: list[str] = []
        while len(batch) < size:
            ua = make(rng)
            if ua not in seen:
                seen.add(ua)
                batch.append(ua)
        yield batch


def per_call(fn: Callable[[str], Any], uas: list[str]) -> list[float]:
    """Microseconds of each call (unseen UAs: each call is timed on its own)."""
    out: list[float] = []
    clock = time.perf_counter_ns
    for ua in uas:
        start = clock()
        fn(ua)
        out.append((clock() - start) / 1000)
    return out


def mean_of_loop(fn: Callable[[str], Any], uas: list[str], repeat: int = 5) -> float:
    """Best-of-`repeat` mean microseconds per call over the whole list (cached calls)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter_ns()
        for ua in uas:
            fn(ua)
        best = min(best, (time.perf_counter_ns() - start) / 1000 / len(uas))
    return best


BOT_SAMPLES = [
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.32.3",
    "python-httpx/0.27.0",
    "Go-http-client/1.1",
    "okhttp/4.12.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.0.0 Safari/537.36",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "WhatsApp/2.23.20.0",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=2000, help="distinct UAs per row")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    if str(_SRC) not in sys.path:
        sys.path.insert(0, str(_SRC))
    import ua_parser
    import user_agents
    from crawlerdetect import CrawlerDetect

    from firstmark.domain import devices

    sets = distinct_sets(9, args.n, args.seed)
    warmup = next(sets)
    # ua-parser builds its matchers lazily on first use; user-agents compiles its regexes on
    # import. Warm both (and crawlerdetect's compiled pattern) on UAs outside the measured sets.
    for ua in warmup:
        ua_parser.parse(ua)
        user_agents.parse(ua)
        CrawlerDetect().isCrawler(ua)

    def ua_full(ua: str) -> tuple[bool, bool, bool, bool]:
        parsed = user_agents.parse(ua)
        return parsed.is_mobile, parsed.is_tablet, parsed.is_pc, parsed.is_bot

    crawler = CrawlerDetect()
    rows: list[tuple[str, list[float] | float]] = []
    rows.append(("ua_parser.parse (1.x), unseen", per_call(ua_parser.parse, next(sets))))
    rows.append(("user_agents.parse, unseen", per_call(user_agents.parse, next(sets))))
    rows.append(
        ("user_agents.parse + is_mobile/tablet/pc/bot, unseen", per_call(ua_full, next(sets)))
    )
    rows.append(("CrawlerDetect.isCrawler, unseen", per_call(crawler.isCrawler, next(sets))))
    devices.clear_caches()
    bot_set = next(sets)
    rows.append(("devices.bot_reason, unseen", per_call(devices.bot_reason, bot_set)))
    rows.append(("devices.bot_reason, cached", mean_of_loop(devices.bot_reason, bot_set)))
    crawlers = next(distinct_sets(1, args.n, args.seed, generate_crawler))
    rows.append(
        (
            "devices.bot_reason, unseen crawlerdetect-only bots",
            per_call(devices.bot_reason, crawlers),
        )
    )
    classify_set = next(sets)
    rows.append(("devices.classify, unseen", per_call(devices.classify, classify_set)))
    rows.append(("devices.classify, cached", mean_of_loop(devices.classify, classify_set)))

    resolver = getattr(ua_parser.parser.resolver, "parser", None) or ua_parser.parser.resolver
    print(f"$ .venv/bin/python bench/ua.py --n {args.n} --seed {args.seed}")
    print(
        f"# {time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, {_cpu()}, "
        f"ua-parser {metadata.version('ua-parser')} (resolver {_resolver_name(resolver)}, "
        f"ua-parser-rs {_version('ua-parser-rs')}), user-agents {metadata.version('user-agents')}, "
        f"crawlerdetect {metadata.version('crawlerdetect')}"
    )
    print(f"# {args.n} distinct UAs per row; µs per call")
    print(f"{'what':<54} {'mean':>8} {'p50':>8} {'p95':>8} {'max':>9}")
    for label, value in rows:
        if isinstance(value, float):
            print(f"{label:<54} {value:>8.3f} {'':>8} {'':>8} {'':>9}")
        else:
            p95 = statistics.quantiles(value, n=20)[-1]
            print(
                f"{label:<54} {statistics.fmean(value):>8.2f} {statistics.median(value):>8.2f} "
                f"{p95:>8.2f} {max(value):>9.1f}"
            )

    print()
    print(f"{'bot sample':<40} {'user_agents.is_bot':>18} {'devices.bot_reason':>26}")
    for ua in BOT_SAMPLES:
        short = ua if len(ua) <= 38 else ua[:35] + "..."
        print(f"{short:<40} {user_agents.parse(ua).is_bot!s:>18} {devices.bot_reason(ua)!s:>26}")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _resolver_name(resolver: object) -> str:
    return f"{type(resolver).__module__}.{type(resolver).__qualname__}"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    main()
