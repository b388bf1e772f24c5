"""Device class, OS, browser and bot verdict from real User-Agent strings."""

from __future__ import annotations

import pytest
from crawlerdetect import CrawlerDetect
from crawlerdetect.providers.crawlers import data as crawler_patterns
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmark.domain import devices
from firstmark.domain.devices import (
    DEVICE_TYPES,
    MAX_FIELD_CHARS,
    MAX_UA_CHARS,
    Device,
    bot_reason,
    classify,
    clear_caches,
    device_matches,
)

# (user agent, device_type, os, browser)
HUMANS: list[tuple[str, str, str, str]] = [
    # phones
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        "mobile",
        "iOS",
        "Safari",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
        "mobile",
        "iOS",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36",
        "mobile",
        "Android",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.6099.144 Mobile Safari/537.36",
        "mobile",
        "Android",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
        "mobile",
        "Android",
        "Firefox",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
        "mobile",
        "Android",
        "Samsung Internet",
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115",
        "mobile",
        "Android",
        "Edge",
    ),
    (
        "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; RM-1152) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15254",
        "mobile",
        "Windows Phone",
        "Edge",
    ),
    # tablets
    (
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/16.6 Mobile/15E148 Safari/604.1",
        "tablet",
        "iOS",
        "Safari",
    ),
    (
        "Mozilla/5.0 (Linux; Android 12; SM-T870) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "tablet",
        "Android",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36",
        "tablet",
        "Android",
        "Samsung Internet",
    ),
    (
        "Mozilla/5.0 (Android 13; Tablet; rv:121.0) Gecko/121.0 Firefox/121.0",
        "tablet",
        "Android",
        "Firefox",
    ),
    (
        "Mozilla/5.0 (Linux; Android 11; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Silk/120.3.1 like Chrome/120.0.6099.115 Safari/537.36",
        "tablet",
        "Android",
        "Silk",
    ),
    # desktops
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "desktop",
        "Windows",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
        "desktop",
        "Windows",
        "Edge",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "desktop",
        "Windows",
        "Firefox",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
        "desktop",
        "Windows",
        "Opera",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        "desktop",
        "macOS",
        "Safari",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0",
        "desktop",
        "macOS",
        "Firefox",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "desktop",
        "Linux",
        "Firefox",
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "desktop",
        "Linux",
        "Firefox",
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "desktop",
        "ChromeOS",
        "Chrome",
    ),
    # TVs
    (
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "76.0.3809.146/6.0 TV Safari/537.36",
        "tv",
        "Tizen",
        "Safari",
    ),
    (
        "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/87.0.4280.88 Safari/537.36 WebAppManager",
        "tv",
        "webOS",
        "Chrome",
    ),
    ("Roku/DVP-9.10 (519.10E04111A)", "tv", "Roku", "Roku"),
    (
        "Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/90.0.4430.225 Safari/537.36 CrKey/1.56.500000 DeviceType/AndroidTV",
        "tv",
        "ChromecastOS",
        "Chrome",
    ),
    # consoles
    (
        "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/13.0 Safari/605.1.15",
        "console",
        "Other",
        "Safari",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edge/44.18363.8131",
        "console",
        "Windows",
        "Edge",
    ),
    (
        "Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) "
        "NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393",
        "console",
        "Other",
        "Other",
    ),
]

# In-app browsers of the apps whose preview bots we flag: these are people, not bots.
IN_APP_HUMANS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/442.0.0.33.111;FBBV/540000000;"
    "FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.1.2;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/80]",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 [Pinterest/iOS]",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.29.7",
    "Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 "
    "Instagram 312.0.0.32.112 Android",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Snapchat/12.60.0.41 (like Safari/8617.1.17.10.9, panda)",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.231205.015; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 "
    "Telegram-Android/10.5.0 (Google Pixel 8; Android 14; SDK 34; AVERAGE)",
]

# (user agent, bot_reason)
BOTS: list[tuple[str, str]] = [
    # link previews
    ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "preview:Slackbot"),
    ("Slackbot 1.0 (+https://api.slack.com/robots)", "preview:Slackbot"),
    (
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "preview:facebookexternalhit",
    ),
    ("Facebot", "preview:Facebot"),
    ("Twitterbot/1.0", "preview:Twitterbot"),
    ("WhatsApp/2.23.20.0", "preview:WhatsApp"),
    (
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "preview:LinkedInBot",
    ),
    ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "preview:Discordbot"),
    ("TelegramBot (like TwitterBot)", "preview:TelegramBot"),
    (
        "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 "
        "skype-url-preview@microsoft.com",
        "preview:SkypeUriPreview",
    ),
    ("Pinterest/0.2 (+https://www.pinterest.com/bot.html)", "preview:Pinterest"),
    (
        "Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)",
        "preview:Pinterest",
    ),
    (
        "Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
        "preview:redditbot",
    ),
    ("Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)", "preview:Embedly"),
    ("Mozilla/5.0 (compatible; vkShare; +http://vk.com/dev/Share)", "preview:vkShare"),
    (  # iMessage link preview
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) "
        "Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
        "preview:facebookexternalhit",
    ),
    ("http.rb/5.1.1 (Mastodon/4.2.1; +https://mastodon.social/)", "preview:Mastodon"),
    (
        "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
        "preview:Bluesky",
    ),
    # crawlers
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "crawler:Googlebot",
    ),
    (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.6099.216 Mobile Safari/537.36 "
        "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "crawler:Googlebot",
    ),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "crawler:bingbot"),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        "crawler:Applebot",
    ),
    # tools
    ("curl/8.5.0", "tool:curl"),
    ("Wget/1.21.4", "tool:Wget"),
    ("python-requests/2.32.3", "tool:python-requests"),
    ("python-httpx/0.27.0", "tool:python-httpx"),
    ("Python/3.11 aiohttp/3.9.1", "tool:aiohttp"),
    ("Python-urllib/3.11", "tool:Python-urllib"),
    ("Go-http-client/1.1", "tool:Go-http-client"),
    ("Go-http-client/2.0", "tool:Go-http-client"),
    ("okhttp/4.12.0", "tool:okhttp"),
    ("Java/17.0.2", "tool:Java"),
    ("Apache-HttpClient/4.5.14 (Java/17.0.9)", "tool:Apache-HttpClient"),
    ("libwww-perl/6.72", "tool:libwww-perl"),
    ("axios/1.6.2", "tool:axios"),
    ("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "tool:node-fetch"),
    ("HTTPie/3.2.2", "tool:HTTPie"),
    ("PostmanRuntime/7.36.0", "tool:PostmanRuntime"),
    ("Scrapy/2.11.0 (+https://scrapy.org)", "tool:Scrapy"),
    # headless browsers
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.0.0 Safari/537.36",
        "headless:HeadlessChrome",
    ),
    (
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
        "PhantomJS/2.1.1 Safari/538.1",
        "headless:PhantomJS",
    ),
    # no user agent at all
    ("", "empty"),
    ("   ", "empty"),
    ("-", "empty"),
]

# Not on our list: crawlerdetect's verdict, reported as 'crawler:<its match>'.
CRAWLERDETECT_BOTS = [
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; "
    "+claudebot@anthropic.com)",
    "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
    "UptimeRobot/2.0 (http://www.uptimerobot.com/)",
]


@pytest.mark.parametrize(("ua", "device_type", "os", "browser"), HUMANS)
def test_classify_humans(ua: str, device_type: str, os: str, browser: str) -> None:
    assert classify(ua) == Device(
        device_type=device_type, os=os, browser=browser, is_bot=False, bot_reason=None
    )
    assert bot_reason(ua) is None


@pytest.mark.parametrize("ua", IN_APP_HUMANS)
def test_in_app_browsers_are_people(ua: str) -> None:
    device = classify(ua)
    assert bot_reason(ua) is None
    assert not device.is_bot
    assert device.device_type == "mobile"


@pytest.mark.parametrize(("ua", "reason"), BOTS)
def test_bots(ua: str, reason: str) -> None:
    assert bot_reason(ua) == reason
    device = classify(ua)
    assert device.is_bot
    assert device.bot_reason == reason
    assert device.device_type == "bot"


@pytest.mark.parametrize("ua", CRAWLERDETECT_BOTS)
def test_crawlerdetect_long_tail(ua: str) -> None:
    reason = bot_reason(ua)
    assert reason is not None
    assert reason.startswith("crawler:")
    assert len(reason) > len("crawler:")
    assert classify(ua).device_type == "bot"


def test_crawlerdetect_state_does_not_leak_between_answers() -> None:
    clear_caches()
    assert bot_reason(CRAWLERDETECT_BOTS[0]) is not None
    assert bot_reason(HUMANS[0][0]) is None
    assert classify(HUMANS[0][0]).bot_reason is None


def test_answers_are_cached() -> None:
    ua = HUMANS[3][0]
    clear_caches()
    first = classify(ua)
    assert classify(ua) is first
    # a different but equal string object hits the same entry
    assert classify("".join(ua)) is first


def test_huge_user_agent_is_cut_before_parsing() -> None:
    human = HUMANS[0][0]
    padded = human + " " + "x" * (MAX_UA_CHARS * 4) + " curl/8.5.0"
    assert bot_reason(padded) is None  # the tool token sits past the limit
    assert classify(padded) == classify(human + " " + "x" * (MAX_UA_CHARS - len(human) - 1))


def test_family_strings_are_cut() -> None:
    family = "Zz" + "a" * 200
    device = classify(f"{family}/1.0")
    assert len(device.browser) <= MAX_FIELD_CHARS
    assert family not in device.browser


@pytest.mark.parametrize(
    ("ua", "device_type"),
    [
        ("Mozilla/5.0 \udcff (iPhone; CPU iPhone OS 17_1 like Mac OS X) Mobile", "mobile"),
        ("\ud800", "other"),
        ("a\x00b", "other"),
    ],
)
def test_unparseable_text_still_gets_a_device_class(ua: str, device_type: str) -> None:
    device = classify(ua)  # ua-parser raises UnicodeEncodeError on lone surrogates
    assert device == Device(
        device_type=device_type, os="Other", browser="Other", is_bot=False, bot_reason=None
    )


@pytest.mark.parametrize(
    ("device_type", "wanted", "matches"),
    [
        ("mobile", "mobile", True),
        ("mobile", "Mobile", True),
        ("mobile", " MOBILE ", True),
        ("tablet", "mobile", False),
        ("desktop", "desktop", True),
        ("bot", "desktop", False),
        ("tv", "tv", True),
        ("mobile", "ios", False),
    ],
)
def test_device_matches(device_type: str, wanted: str, matches: bool) -> None:
    device = Device(
        device_type=device_type, os="iOS", browser="Safari", is_bot=False, bot_reason=None
    )
    assert device_matches(device, wanted) is matches


_UA_PIECES = st.sampled_from(
    [
        "Mozilla/5.0",
        "(iPhone; CPU iPhone OS 17_1 like Mac OS X)",
        "(Linux; Android 14; Pixel 8)",
        "(Windows NT 10.0; Win64; x64)",
        "AppleWebKit/537.36 (KHTML, like Gecko)",
        "Chrome/120.0.0.0",
        "Mobile Safari/537.36",
        "Tablet",
        "SMART-TV",
        "Xbox",
        "bot",
        "curl/",
        "Tizen",
    ]
)
_USER_AGENTS = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(_UA_PIECES, st.text(max_size=40)), max_size=12).map(" ".join),
)


@settings(deadline=None, max_examples=300)
@given(_USER_AGENTS)
def test_classify_never_raises_and_never_echoes_the_user_agent(ua: str) -> None:
    device = classify(ua)
    assert device.device_type in DEVICE_TYPES
    assert device.is_bot is (device.bot_reason is not None)
    assert device.is_bot is (device.device_type == "bot")
    assert device.bot_reason == bot_reason(ua)
    fields = [device.device_type, device.os, device.browser, device.bot_reason or ""]
    assert all(len(field) <= MAX_FIELD_CHARS for field in fields)
    if len(ua) > MAX_FIELD_CHARS:
        assert not any(ua in field for field in fields)


# --- the crawlerdetect prefilter gives crawlerdetect's own verdict ---------------------------

_reference = CrawlerDetect()
_crawler_texts = [text for text in map(devices._as_literal, crawler_patterns) if text is not None]


def test_prefilter_is_built_from_the_installed_crawlerdetect() -> None:
    assert devices._crawler_fast is not None
    assert len(_crawler_texts) > 1000  # most of crawlerdetect's patterns are plain strings


def test_prefilter_agrees_with_crawlerdetect_on_every_literal_pattern() -> None:
    fast = devices._crawler_fast
    assert fast is not None
    host = HUMANS[0][0]
    disagreements = [
        ua
        for text in _crawler_texts
        for ua in (text, text.upper(), f"{host} {text}/1.0", f"Mozilla/5.0 (compatible; {text})")
        if fast(ua) != _reference.isCrawler(ua)
    ]
    assert disagreements == []


@pytest.mark.parametrize(
    "ua",
    [ua for ua, *_ in HUMANS] + IN_APP_HUMANS + [ua for ua, _ in BOTS] + CRAWLERDETECT_BOTS,
)
def test_prefilter_agrees_with_crawlerdetect_on_the_tables(ua: str) -> None:
    assert devices._crawler_fast is not None
    assert devices._crawler_fast(ua) == _reference.isCrawler(ua)


@settings(deadline=None, max_examples=300)
@given(
    st.one_of(
        _USER_AGENTS,
        st.tuples(_USER_AGENTS, st.sampled_from(crawler_patterns), _USER_AGENTS).map(" ".join),
    )
)
def test_prefilter_agrees_with_crawlerdetect_on_arbitrary_text(ua: str) -> None:
    assert devices._crawler_fast is not None
    assert devices._crawler_fast(ua) == _reference.isCrawler(ua)
