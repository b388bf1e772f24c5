"""FIRSTMARK_SMTP_URL: the relay it names, and errors that never repeat its password."""

from __future__ import annotations

import pytest

from firstmark.config import Settings, from_env
from firstmark.domain.mail import Relay, parse_relay
from firstmark.errors import ConfigError


def test_starttls_smtps_and_a_relay_without_login() -> None:
    assert parse_relay("smtp://mailer:s3cr%40t@mail.example:587?starttls=1") == Relay(
        "mail.example", 587, tls=False, starttls=True, username="mailer", password="s3cr@t"
    )
    smtps = parse_relay("smtps://u:p@mail.example")
    assert (smtps.port, smtps.tls, smtps.starttls) == (465, True, False)
    bare = parse_relay("smtp://relay.internal")
    assert (bare.port, bare.username, bare.password) == (25, "", "")


def test_the_password_is_never_shown() -> None:
    relay = parse_relay("smtp://mailer:hunter2@mail.example:587?starttls=1")
    assert "hunter2" not in repr(relay) and "hunter2" not in str(relay)
    settings = Settings(smtp_url="smtp://mailer:hunter2@mail.example:587")
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    "url",
    [
        "http://mailer:hunter2@mail.example",
        "smtp://mailer:hunter2@mail.example:notaport",
        "smtp://mailer:hunter2@mail.example?tls=1",
        "smtps://mailer:hunter2@mail.example?starttls=1",
    ],
)
def test_a_bad_url_stops_the_start_naming_the_setting_only(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        from_env({"FIRSTMARK_SMTP_URL": url, "FIRSTMARK_SECRET_KEY": "k"}, env_file=None)
    assert raised.value.field == "smtp_url"
    assert "hunter2" not in raised.value.message


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("FIRSTMARK_REPORT_SCHEDULE", "hourly", "report_schedule"),
        ("FIRSTMARK_REPORT_HOUR", "24", "report_hour"),
        ("FIRSTMARK_REPORT_TO", "ops@example.com,not an address", "report_to"),
    ],
)
def test_report_settings_are_checked(name: str, value: str, field: str) -> None:
    with pytest.raises(ConfigError) as raised:
        from_env({name: value, "FIRSTMARK_SECRET_KEY": "k"}, env_file=None)
    assert raised.value.field == field


def test_report_settings_are_read() -> None:
    settings = from_env(
        {
            "FIRSTMARK_REPORT_SCHEDULE": "daily",
            "FIRSTMARK_REPORT_TO": "ops@example.com, cmo@example.com",
            "FIRSTMARK_SECRET_KEY": "k",
        },
        env_file=None,
    )
    assert settings.report_schedule == "daily" and settings.report_hour == 7
    assert settings.report_to == ("ops@example.com", "cmo@example.com")
