"""Device class, OS, browser and bot verdict from a User-Agent string.

Pure: no web or store imports. Two entry points, both LRU-cached by UA string (real traffic
repeats a small set of UAs):

- `bot_reason(ua)` is cheap enough for the redirect path: our own link-preview/tool/crawler list
  (one compiled regex), then `crawlerdetect` (the list Shlink uses).
- `classify(ua)` adds the ua-parser 1.x parse (families) and our device-class rules; the writer
  task calls it, never the response path.

Privacy: the UA itself is never kept or returned. Every returned string is a family name cut to
`MAX_FIELD_CHARS`, so no returned value can carry a UA longer than that. The caches hold UA strings
in memory only (never written anywhere); input is cut to `MAX_UA_CHARS` before it becomes a cache
key so that hostile headers cannot grow the caches past ~8192 x 1 KiB each.

Device-class rules (ua-parser has no device class), first match wins, on the lower-cased UA plus
the parsed families (see ADR 0002):

1. bot: `bot_reason` is not None.
2. console: playstation, xbox, nintendo.
3. tv: smarttv / smart-tv, hbbtv, roku, appletv, crkey (Chromecast), googletv, android tv,
   web0s / webos.tv, netcast, bravia, tizen + tv, Fire TV models (AFTxx), ua-parser's
   `Generic_Inettv` brand or an `ATV OS X` / `tvOS` OS.
4. tablet: ipad, kindle, silk, playbook, a `tablet` token (not Windows' old `Tablet PC`),
   ua-parser's `Generic_Android_Tablet` brand, or Android without `mobile`.
5. mobile: `mobi` (MDN's advice), iphone, ipod, windows phone, blackberry / bb10, opera mini,
   kaios, or an OS of iOS / Android / Windows Phone.
6. desktop: an OS of Windows, macOS, Linux, ChromeOS or a BSD, or windows nt / macintosh / x11
   tokens (ChromeOS sends "X11; CrOS").
7. other.

Known limit: iPadOS 13+ Safari sends a Macintosh UA by default, so those iPads count as desktop.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import ua_parser
from crawlerdetect import CrawlerDetect

__all__ = [
    "DEVICE_TYPES",
    "MAX_FIELD_CHARS",
    "MAX_UA_CHARS",
    "Device",
    "bot_reason",
    "classify",
    "clear_caches",
    "device_matches",
]

DEVICE_TYPES: Final = frozenset(
    {"desktop", "mobile", "tablet", "tv", "console", "bot", "other"},
)
MAX_FIELD_CHARS: Final = 64
# Real UAs stay well under 600 characters (in-app browsers are the longest); anything past this
# is ignored for parsing and bot detection, and keeps cache keys bounded.
MAX_UA_CHARS: Final = 1024
_CACHE_SIZE: Final = 8192


@dataclass(frozen=True, slots=True)
class Device:
    device_type: str  # one of DEVICE_TYPES
    os: str  # short family: 'iOS', 'Android', 'Windows', 'macOS', 'Linux', 'ChromeOS', … or 'Other'
    browser: str  # family: 'Chrome', 'Safari', 'Firefox', 'Edge', 'Samsung Internet', … or 'Other'
    is_bot: bool
    bot_reason: str | None  # None for humans; else 'preview:Slackbot', 'tool:curl', 'empty', …


# --- bots ------------------------------------------------------------------------------------

# (category, canonical name, pattern). Patterns are literal, matched case-insensitively anywhere
# in the UA; the leftmost hit in the UA wins (iMessage sends "… facebookexternalhit/1.1 Facebot
# Twitterbot/1.0": preview:facebookexternalhit). Human in-app browsers must not match: Pinterest's
# app sends "[Pinterest/iOS]", hence "Pinterestbot" / "pinterest.com/bot" rather than "Pinterest".
_OWN_BOTS: Final[tuple[tuple[str, str, str], ...]] = (
    # link previews (unfurlers)
    ("preview", "Slackbot", "Slackbot"),
    ("preview", "facebookexternalhit", "facebookexternalhit"),
    ("preview", "Facebot", "Facebot"),
    ("preview", "Twitterbot", "Twitterbot"),
    ("preview", "WhatsApp", "WhatsApp"),
    ("preview", "LinkedInBot", "LinkedInBot"),
    ("preview", "Discordbot", "Discordbot"),
    ("preview", "TelegramBot", "TelegramBot"),
    ("preview", "SkypeUriPreview", "SkypeUriPreview"),
    ("preview", "Pinterest", "Pinterestbot"),
    ("preview", "Pinterest", "pinterest.com/bot"),
    ("preview", "redditbot", "redditbot"),
    ("preview", "Embedly", "Embedly"),
    ("preview", "vkShare", "vkShare"),
    ("preview", "Iframely", "Iframely"),
    ("preview", "Mastodon", "Mastodon/"),
    ("preview", "Bluesky", "Bluesky Cardyb"),
    ("preview", "Snapchat", "Snap URL Preview"),
    ("preview", "Google-PageRenderer", "Google-PageRenderer"),
    ("preview", "MicrosoftPreview", "MicrosoftPreview"),
    # search and AI crawlers seen most often (crawlerdetect catches the long tail)
    ("crawler", "Googlebot", "Googlebot"),
    ("crawler", "AdsBot-Google", "AdsBot-Google"),
    ("crawler", "Google-InspectionTool", "Google-InspectionTool"),
    ("crawler", "bingbot", "bingbot"),
    ("crawler", "Applebot", "Applebot"),
    ("crawler", "YandexBot", "YandexBot"),
    ("crawler", "DuckDuckBot", "DuckDuckBot"),
    ("crawler", "Baiduspider", "Baiduspider"),
    ("crawler", "GPTBot", "GPTBot"),
    # HTTP libraries and command-line tools
    ("tool", "curl", "curl/"),
    ("tool", "Wget", "Wget"),
    ("tool", "python-requests", "python-requests"),
    ("tool", "python-httpx", "python-httpx"),
    ("tool", "Python-urllib", "Python-urllib"),
    ("tool", "aiohttp", "aiohttp"),
    ("tool", "Scrapy", "Scrapy"),
    ("tool", "Go-http-client", "Go-http-client"),
    ("tool", "okhttp", "okhttp"),
    ("tool", "Java", "Java/"),
    ("tool", "Apache-HttpClient", "Apache-HttpClient"),
    ("tool", "libwww-perl", "libwww-perl"),
    ("tool", "axios", "axios/"),
    ("tool", "node-fetch", "node-fetch"),
    ("tool", "HTTPie", "HTTPie"),
    ("tool", "PostmanRuntime", "PostmanRuntime"),
    # headless browsers
    ("headless", "HeadlessChrome", "HeadlessChrome"),
    ("headless", "PhantomJS", "PhantomJS"),
)
# CrawlerDetect keeps the last verdict on the instance (getMatches), so one instance, used only
# under this lock, from the cached functions below.
_crawler_detect: Final = CrawlerDetect()
_crawler_lock: Final = threading.Lock()

_REGEX_META: Final = frozenset(".^$*+?{}[]|()")
# crawlerdetect's catch-all, e.g. "[a-z0-9\-_]*(bot|crawl|…)": it matches exactly where one of
# the words does, since the class may match nothing.
_ANY_WORD_RE: Final = re.compile(r"\[[^\]]*\]\*\(([A-Za-z|]+)\)")


def _as_literal(pattern: str) -> str | None:
    """The text a regex matches if it is a plain string with escaped punctuation, else None."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            if not escaped or escaped.isalnum():  # \d, \w, … are classes
                return None
            out.append(escaped)
        elif char in _REGEX_META:
            return None
        else:
            out.append(char)
    return "".join(out)


def _trie_pattern(words: list[str]) -> str:
    """One regex matching wherever any of `words` occurs (a trie: a position costs ~1 test)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        if "" in node:  # a word ends here; longer words add nothing to a yes/no search
            return ""
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return build(trie)


def _crawler_prefilter() -> Callable[[str], bool] | None:
    """A fast yes/no with exactly crawlerdetect's verdict, built from its own pattern list.

    crawlerdetect searches one ~1,460-branch case-insensitive alternation, which costs Python's
    `re` ~0.4-2.4 ms for an unseen human UA (bench/ua.py). Split into a trie of its literal
    patterns (on the lower-cased UA), a `match` of its `^`-anchored ones and a search of the ~20
    real regexes, the same verdict costs tens of µs. CrawlerDetect itself still runs on a "yes",
    for its match label. None (plain CrawlerDetect) if the package's layout changes.
    """
    try:
        from crawlerdetect.crawlerdetect import get_compiled_exclusions_regex
        from crawlerdetect.providers.crawlers import data as crawler_patterns
    except ImportError:  # pragma: no cover - depends on the installed crawlerdetect
        return None
    literals: list[str] = []
    anchored: list[str] = []
    others: list[str] = []
    for pattern in crawler_patterns:
        literal = _as_literal(pattern)
        if literal is not None:
            literals.append(literal.lower())
        elif words := _ANY_WORD_RE.fullmatch(pattern):
            literals.extend(word.lower() for word in words.group(1).split("|"))
        elif pattern.startswith("^") and "|" not in pattern:
            anchored.append(pattern)
        else:
            others.append(pattern)
    exclusions = get_compiled_exclusions_regex()
    literal_re = re.compile(_trie_pattern(literals))
    never = "(?!)"
    anchored_re = re.compile("|".join(f"(?:{p})" for p in anchored) or never, re.IGNORECASE)
    others_re = re.compile("|".join(f"(?:{p})" for p in others) or never, re.IGNORECASE)

    def is_crawler(user_agent: str) -> bool:
        agent = exclusions.sub("", user_agent.strip())  # what CrawlerDetect.isCrawler does
        if not agent:
            return False
        return bool(
            literal_re.search(agent.lower()) or anchored_re.match(agent) or others_re.search(agent)
        )

    return is_crawler


_crawler_fast: Final = _crawler_prefilter()

# Our list as one trie regex over the lower-cased UA (a case-insensitive alternation of the same
# ~50 strings costs ~50 µs on a long UA; the trie ~2 µs). A hit is the shortest listed string
# that starts at the leftmost matching position, so it is always a key of _OWN_BOT_REASON.
_OWN_BOT_REASON: Final[dict[str, str]] = {
    pattern.lower(): f"{category}:{name}" for category, name, pattern in _OWN_BOTS
}
_OWN_BOT_RE: Final = re.compile(_trie_pattern(list(_OWN_BOT_REASON)))


def _clip(value: str) -> str:
    return value[:MAX_FIELD_CHARS]


def _ua_key(user_agent: str | None) -> str:
    return (user_agent or "")[:MAX_UA_CHARS]


@lru_cache(maxsize=_CACHE_SIZE)
def _bot_reason(user_agent: str) -> str | None:
    stripped = user_agent.strip()
    if not stripped or stripped == "-":
        return "empty"
    if hit := _OWN_BOT_RE.search(stripped.lower()):
        return _OWN_BOT_REASON[hit.group(0).lower()]
    if _crawler_fast is not None and not _crawler_fast(stripped):
        return None
    with _crawler_lock:
        if not _crawler_detect.isCrawler(stripped):
            return None
        match = _crawler_detect.getMatches()
    return _clip(f"crawler:{match or 'unknown'}")


def bot_reason(user_agent: str) -> str | None:
    """Why this UA is a bot ('preview:Slackbot', 'tool:curl', 'crawler:…', 'headless:…',
    'empty'), or None for a human browser. LRU-cached (8192 UAs)."""
    return _bot_reason(_ua_key(user_agent))


# --- device fields ---------------------------------------------------------------------------

_OS_NAMES: Final[dict[str, str]] = {
    "Mac OS X": "macOS",
    "Chrome OS": "ChromeOS",
    "ATV OS X": "tvOS",
    "Web0S": "webOS",
    "Chromecast Linux": "ChromecastOS",
    "Windows Phone": "Windows Phone",
    "Windows Mobile": "Windows Mobile",
    "Windows CE": "Windows Mobile",
}
_LINUX_DISTROS: Final = frozenset(
    {
        "Ubuntu",
        "Kubuntu",
        "Xubuntu",
        "Lubuntu",
        "Debian",
        "Fedora",
        "Red Hat",
        "CentOS",
        "Linux Mint",
        "Mint",
        "Arch Linux",
        "Gentoo",
        "openSUSE",
        "SUSE",
        "Slackware",
        "Mandriva",
        "PCLinuxOS",
    }
)
_BROWSER_NAMES: Final[dict[str, str]] = {
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari WebView",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome WebView",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
    "Amazon Silk": "Silk",
}
_DESKTOP_OS: Final = frozenset(
    {"Windows", "macOS", "Linux", "ChromeOS", "FreeBSD", "OpenBSD", "NetBSD", "Solaris"},
)
_MOBILE_OS: Final = frozenset({"iOS", "Android", "Windows Phone", "Windows Mobile"})

_CONSOLE_TOKENS: Final = ("playstation", "xbox", "nintendo")
_TV_TOKENS: Final = (
    "smarttv",
    "smart-tv",
    "smart tv",
    "hbbtv",
    "roku",
    "appletv",
    "apple tv",
    "crkey",
    "googletv",
    "android tv",
    "androidtv",
    "web0s",
    "webos.tv",
    "netcast",
    "bravia",
)
_FIRE_TV_RE: Final = re.compile(r"\bAFT[A-Z0-9]{1,6}\b")  # Amazon Fire TV models: AFTMM, AFTS, …
_TABLET_TOKENS: Final = ("ipad", "kindle", "silk/", "playbook")
_MOBILE_TOKENS: Final = (
    "mobi",
    "iphone",
    "ipod",
    "windows phone",
    "blackberry",
    "bb10",
    "opera mini",
    "kaios",
)
_DESKTOP_TOKENS: Final = ("windows nt", "macintosh", "x11")  # ChromeOS sends "X11; CrOS"


def _os_name(family: str | None) -> str:
    if not family or family == "Other":
        return "Other"
    if family in _OS_NAMES:
        return _OS_NAMES[family]
    if family in _LINUX_DISTROS:
        return "Linux"
    if family.startswith("Windows"):  # legacy families: 'Windows 7', 'Windows XP', …
        return "Windows"
    return _clip(family)


def _browser_name(family: str | None) -> str:
    if not family or family == "Other":
        return "Other"
    return _clip(_BROWSER_NAMES.get(family, family))


def _device_type(user_agent: str, os: str, brand: str | None, bot: bool) -> str:
    if bot:
        return "bot"
    lowered = user_agent.lower()
    if any(token in lowered for token in _CONSOLE_TOKENS):
        return "console"
    if (
        any(token in lowered for token in _TV_TOKENS)
        or ("tizen" in lowered and "tv" in lowered)
        or brand == "Generic_Inettv"
        or os == "tvOS"
        or _FIRE_TV_RE.search(user_agent) is not None
    ):
        return "tv"
    if (
        any(token in lowered for token in _TABLET_TOKENS)
        or ("tablet" in lowered and "tablet pc" not in lowered)
        or brand == "Generic_Android_Tablet"
        or ("android" in lowered and "mobi" not in lowered and "windows phone" not in lowered)
    ):
        return "tablet"
    if any(token in lowered for token in _MOBILE_TOKENS) or os in _MOBILE_OS:
        return "mobile"
    if os in _DESKTOP_OS or any(token in lowered for token in _DESKTOP_TOKENS):
        return "desktop"
    return "other"


@lru_cache(maxsize=_CACHE_SIZE)
def _classify(user_agent: str) -> Device:
    reason = _bot_reason(user_agent)
    os, browser, brand = "Other", "Other", None
    try:
        parsed = ua_parser.parse(user_agent)
    except Exception:  # e.g. a lone surrogate: the parser must never take the writer down
        pass
    else:
        os = _os_name(parsed.os.family if parsed.os else None)
        browser = _browser_name(parsed.user_agent.family if parsed.user_agent else None)
        brand = parsed.device.brand if parsed.device else None
    return Device(
        device_type=_device_type(user_agent, os, brand, reason is not None),
        os=os,
        browser=browser,
        is_bot=reason is not None,
        bot_reason=reason,
    )


def classify(user_agent: str) -> Device:
    """Device class, OS and browser families and the bot verdict. LRU-cached (8192 UAs); the full
    ua-parser parse makes an unseen UA cost ~0.1 ms, so call it off the response path."""
    return _classify(_ua_key(user_agent))


def warm() -> None:
    """Build ua-parser's and the bot list's regexes now (about 0.2 s, once per process) rather
    than in the writers' first batch, which would hold up the event loop meanwhile."""
    _classify("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0 (warm-up)")


def clear_caches() -> None:
    """Empty both LRU caches (tests and benchmarks)."""
    _classify.cache_clear()
    _bot_reason.cache_clear()


def device_matches(device: Device, wanted: str) -> bool:
    """For redirect rules: does the device class equal `wanted` ('mobile', 'tablet', …)?"""
    return device.device_type == wanted.strip().lower()
