"""The channel grouping: GA4's definitions, AI assistants, scans and calls, operator rules and
referrer exclusions."""

from __future__ import annotations

import pytest

from firstmark.domain import channels
from firstmark.domain.channels import Origin, channel_of, parse_rule, source_medium
from firstmark.errors import InvalidField


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        (Origin(), "Direct"),
        (Origin("(direct)", "(none)"), "Direct"),
        (Origin(referrer="chatgpt.com"), "AI Assistants"),
        (Origin("chatgpt.com", "referral"), "AI Assistants"),
        (Origin(referrer="perplexity.ai"), "AI Assistants"),
        (Origin(referrer="www.perplexity.ai"), "AI Assistants"),
        (Origin(referrer="claude.ai"), "AI Assistants"),
        (Origin(referrer="gemini.google.com"), "AI Assistants"),
        (Origin(referrer="copilot.microsoft.com"), "AI Assistants"),
        (Origin(referrer="chat.openai.com"), "AI Assistants"),
        (Origin(referrer="google.com"), "Organic Search"),
        (Origin(referrer="www.google.co.uk"), "Organic Search"),
        (Origin(referrer="duckduckgo.com"), "Organic Search"),
        (Origin("google", "organic"), "Organic Search"),
        (Origin("google", "cpc"), "Paid Search"),
        (Origin("bing", "ppc"), "Paid Search"),
        (Origin(click_ids=("gclid",)), "Paid Search"),
        (Origin(click_ids=("msclkid",)), "Paid Search"),
        (Origin("facebook", "paid_social"), "Paid Social"),
        (Origin("facebook", "cpc"), "Paid Social"),
        (Origin(click_ids=("ttclid",)), "Paid Social"),
        (Origin(referrer="l.facebook.com"), "Organic Social"),
        (Origin(referrer="t.co"), "Organic Social"),
        (Origin("newsletter", "social"), "Organic Social"),
        (Origin(referrer="l.facebook.com", click_ids=("fbclid",)), "Organic Social"),
        (Origin("youtube", "cpv"), "Video"),
        (Origin(referrer="youtube.com"), "Video"),
        (Origin("gdn", "display"), "Display"),
        (Origin("adnet", "cpm"), "Display"),
        (Origin("adnet", "paid"), "Other"),
        (Origin("newsletter", "email"), "Email"),
        (Origin("email", "blast"), "Email"),
        (Origin(referrer="mail.google.com"), "Email"),
        (Origin("partner", "affiliate"), "Affiliates"),
        (Origin("sms", "text"), "SMS"),
        (Origin("poster", "qr"), "Print/QR"),
        (Origin("blog.example", "referral"), "Referral"),
        (Origin(referrer="news.example"), "Referral"),
        (Origin("whatever", "weird"), "Other"),
        (Origin("google", "cpc", kind="scan"), "Print/QR"),
        (Origin(kind="call"), "Phone"),
    ],
)
def test_the_default_grouping(origin: Origin, expected: str) -> None:
    assert channel_of(origin) == expected
    assert expected in channels.CHANNELS


def test_operator_rules_run_before_the_defaults() -> None:
    rule = parse_rule({"field": "source", "value": "PartnerX", "channel": "Affiliates"})
    assert (rule.action, rule.match, rule.value) == ("channel", "equals", "partnerx")
    assert channel_of(Origin("partnerx", "cpc")) == "Other"
    assert channel_of(Origin("partnerx", "cpc"), [rule]) == "Affiliates"
    assert channel_of(Origin("google", "cpc"), [rule]) == "Paid Search"
    contains = parse_rule({"field": "campaign", "match": "contains", "value": "tv",
                           "channel": "Video"})  # fmt: skip
    assert channel_of(Origin("x", "y", "spring-tv-spot"), [contains]) == "Video"


def test_referrer_exclusions() -> None:
    assert channels.excluded("checkout.stripe.com")
    assert channels.excluded("www.paypal.com")
    assert channels.excluded("shop.example", own_hosts=["shop.example"])
    assert not channels.excluded("news.example")
    mine = parse_rule({"action": "exclude", "value": "https://pay.example/checkout"})
    assert (mine.field, mine.match, mine.value) == ("referrer", "ends_with", "pay.example")
    assert channels.excluded("secure.pay.example", [mine])
    assert not channels.excluded("pay.example.org", [mine])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"value": "x", "channel": "Nope"}, "field"),
        ({"field": "source", "value": "x", "channel": "Nope"}, "channel"),
        ({"field": "source", "value": "", "channel": "Email"}, "value"),
        ({"field": "source", "value": "x" * 201, "channel": "Email"}, "value"),
        ({"field": "source", "match": "regex", "value": "x", "channel": "Email"}, "match"),
        ({"action": "exclude", "field": "source", "value": "x"}, "field"),
        ({"action": "exclude", "value": "x.example", "channel": "Email"}, "channel"),
        ({"action": "drop", "value": "x"}, "action"),
        ({"field": "source", "value": "x", "channel": "Email", "extra": 1}, "extra"),
    ],
)
def test_bad_rules_name_the_field(body: object, field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_rule(body)
    assert caught.value.field == field


def test_source_and_medium_of_a_visit() -> None:
    assert source_medium("newsletter", "email", "mail.google.com") == ("newsletter", "email")
    assert source_medium("newsletter", None, None) == ("newsletter", "(none)")
    assert source_medium(None, None, None, ["gclid"]) == ("google", "cpc")
    assert source_medium(None, None, "www.google.com") == ("www.google.com", "organic")
    assert source_medium(None, None, "chatgpt.com") == ("chatgpt.com", "referral")
    assert source_medium(None, None, None) == ("(direct)", "(none)")


def test_the_source_lists_are_data() -> None:
    ai = channels.source_list("ai")
    assert {"chatgpt.com", "perplexity.ai", "claude.ai", "gemini.google.com",
            "copilot.microsoft.com", "chat.openai.com"} <= ai  # fmt: skip
    assert all(not line.startswith("#") and line == line.strip() for line in ai)
    with pytest.raises(ValueError):
        channels.source_list("../secrets")


def test_docs_channels_lists_every_channel_and_every_source_list_entry() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "channels.md").read_text()
    listed = doc.split("## The channels", 1)[1].split("##", 1)[0]
    assert [line[2:] for line in listed.splitlines() if line.startswith("- ")] == list(
        channels.CHANNELS
    )
    for name in channels.LISTS:
        section = doc.split(f"(`{name}.txt`)", 1)[1].split("###", 1)[0]
        entries = [line[3:-1] for line in section.splitlines() if line.startswith("- `")]
        assert entries == sorted(channels.source_list(name)), name
