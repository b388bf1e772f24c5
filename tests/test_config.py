"""Settings: every one documented, parsed strictly, the secret made once with safe permissions."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from firstmark.config import from_env, setting_names
from firstmark.errors import ConfigError

DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"


def test_every_setting_is_documented_and_nothing_else() -> None:
    documented = set(re.findall(r"`(FIRSTMARK_[A-Z_]+)`", DOCS.read_text()))
    assert documented == set(setting_names())


def test_defaults(tmp_path: Path) -> None:
    settings = from_env({"FIRSTMARK_SECRET_KEY_FILE": str(tmp_path / "s")}, env_file=None)
    assert settings.database_url == "sqlite:///./firstmark.db"
    assert settings.click_token_param == "fm_click"
    assert settings.default_host == "127.0.0.1"


def test_secret_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    env = {"FIRSTMARK_SECRET_KEY_FILE": str(tmp_path / "firstmark.secret")}
    first = from_env(env, env_file=None).secret_key
    assert len(first) >= 40
    assert stat.S_IMODE((tmp_path / "firstmark.secret").stat().st_mode) == 0o600
    assert from_env(env, env_file=None).secret_key == first
    assert from_env({**env, "FIRSTMARK_SECRET_KEY": "given"}, env_file=None).secret_key == "given"


def test_values_are_parsed(tmp_path: Path) -> None:
    settings = from_env(
        {
            "FIRSTMARK_SECRET_KEY": "x",
            "FIRSTMARK_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1",
            "FIRSTMARK_CLICK_TOKENS": "off",
            "FIRSTMARK_HIT_FLUSH_MS": "20",
            "FIRSTMARK_UTM_SOURCES": "google, bing",
            "FIRSTMARK_LINK_CACHE_TTL": "0.5",
        },
        env_file=None,
    )
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "192.0.2.1/32"]
    assert settings.click_tokens is False
    assert settings.hit_flush_ms == 20
    assert settings.utm_sources == ("google", "bing")
    assert settings.link_cache_ttl == 0.5


def test_env_file_fills_in(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\nFIRSTMARK_PORT=9000\nOTHER=1\nexport FIRSTMARK_BASE_URL='https://fm.example'\n"
    )
    settings = from_env({"FIRSTMARK_SECRET_KEY": "x", "FIRSTMARK_PORT": "9100"}, env_file=env_file)
    assert settings.port == 9100  # the environment wins
    assert settings.base_url == "https://fm.example"


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("FIRSTMARK_PORT", "eighty", "port"),
        ("FIRSTMARK_CLICK_TOKENS", "maybe", "click_tokens"),
        ("FIRSTMARK_TRUSTED_PROXIES", "10.0.0.0/33", "trusted_proxies"),
        ("FIRSTMARK_BASE_URL", "fm.example", "base_url"),
        ("FIRSTMARK_DATABASE_URL", "mysql://x", "database_url"),
        ("FIRSTMARK_HIT_BUFFER", "10", "hit_buffer"),
        ("FIRSTMARK_CLICK_TOKEN_PARAM", "a b", "click_token_param"),
        ("FIRSTMARK_HIT_FLUSH_MS", "-1", "hit_flush_ms"),
        ("FIRSTMARK_CREDIT_INTERVAL_S", "-1", "credit_interval_s"),
    ],
)
def test_bad_values_name_the_setting(name: str, value: str, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_env({"FIRSTMARK_SECRET_KEY": "x", name: value}, env_file=None)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("env", "field"),
    [
        (
            {"FIRSTMARK_FORWARD_LEASE_S": "5", "FIRSTMARK_FORWARD_TIMEOUT_S": "10"},
            "forward_lease_s",
        ),
        ({"FIRSTMARK_FORWARD_BATCH": "0"}, "forward_batch"),
        ({"FIRSTMARK_FORWARD_MAX_ATTEMPTS": "0"}, "forward_batch"),
        ({"FIRSTMARK_FORWARD_ENABLED": "maybe"}, "forward_enabled"),
    ],
)
def test_forwarding_settings_are_checked(tmp_path: Path, env: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigError) as refused:
        from_env({"FIRSTMARK_SECRET_KEY": "s", **env}, env_file=None)
    assert refused.value.field == field


def test_forwarding_settings_are_read(tmp_path: Path) -> None:
    settings = from_env(
        {"FIRSTMARK_SECRET_KEY": "s", "FIRSTMARK_FORWARD_ENABLED": "false",
         "FIRSTMARK_FORWARD_LEASE_S": "90", "FIRSTMARK_FORWARD_BACKOFF_S": "2.5"},
        env_file=None,
    )  # fmt: skip
    assert not settings.forward_enabled and settings.forward_lease_s == 90.0
    assert settings.forward_backoff_s == 2.5 and settings.forward_batch == 1000


def test_base_url_follows_host_and_port_unless_set(tmp_path: Path) -> None:
    env = {"FIRSTMARK_SECRET_KEY": "x"}
    derived = from_env({**env, "FIRSTMARK_PORT": "8123"}, env_file=None)
    assert derived.base_url == "http://127.0.0.1:8123"
    assert derived.serving_on("0.0.0.0", 9000).base_url == "http://127.0.0.1:9000"
    assert derived.serving_on("::1", 9000).base_url == "http://[::1]:9000"
    given = from_env({**env, "FIRSTMARK_BASE_URL": "https://fm.example"}, env_file=None)
    assert given.serving_on("127.0.0.1", 9000).base_url == "https://fm.example"


OIDC = {
    "FIRSTMARK_SECRET_KEY": "s",
    "FIRSTMARK_OIDC_ISSUER": "https://login.example.com/realms/staff",
    "FIRSTMARK_OIDC_CLIENT_ID": "firstmark",
    "FIRSTMARK_OIDC_CLIENT_SECRET": "shh",
}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"FIRSTMARK_OIDC_ISSUER": "http://login.example.com"}, "FIRSTMARK_OIDC_ISSUER"),
        ({"FIRSTMARK_OIDC_ISSUER": "login.example.com"}, "FIRSTMARK_OIDC_ISSUER"),
        ({"FIRSTMARK_OIDC_CLIENT_SECRET": ""}, "FIRSTMARK_OIDC_CLIENT_SECRET"),
        ({"FIRSTMARK_OIDC_SCOPES": "email profile"}, "FIRSTMARK_OIDC_SCOPES"),
        ({"FIRSTMARK_OIDC_NEW_USERS": "owner"}, "FIRSTMARK_OIDC_NEW_USERS"),
        ({"FIRSTMARK_OIDC_NEW_USERS": "yes"}, "FIRSTMARK_OIDC_NEW_USERS"),
    ],
)
def test_bad_single_sign_on_settings_fail_at_start_in_one_line(
    env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        from_env({**OIDC, **env}, env_file=None)
    assert named in refused.value.message and "\n" not in refused.value.message


def test_single_sign_on_is_off_unless_an_issuer_is_set() -> None:
    assert not from_env({"FIRSTMARK_SECRET_KEY": "s"}, env_file=None).oidc
    settings = from_env({**OIDC, "FIRSTMARK_OIDC_NEW_USERS": "viewer"}, env_file=None)
    assert settings.oidc and settings.oidc_new_users == "viewer"
    local = from_env({**OIDC, "FIRSTMARK_OIDC_ISSUER": "http://localhost:8080"}, env_file=None)
    assert local.oidc_issuer == "http://localhost:8080"
