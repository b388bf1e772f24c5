"""One frozen Settings built from FIRSTMARK_* environment variables (and an optional .env file).

Every field here is documented in docs/configuration.md; a test keeps the two in step.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from firstmark.domain.mail import parse_relay
from firstmark.domain.roles import OWNER, ROLES
from firstmark.errors import ConfigError

PREFIX = "FIRSTMARK_"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./firstmark.db"
    secret_key: str = ""
    secret_key_file: str = "./firstmark.secret"
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    keep_alive: float = 5.0
    trusted_proxies: tuple[Network, ...] = ()
    geoip_db: str = ""
    click_tokens: bool = True
    click_token_param: str = "fm_click"
    link_cache_ttl: float = 5.0
    link_cache_size: int = 100_000
    hit_buffer: int = 10_000
    hit_batch: int = 1_000
    hit_flush_ms: int = 50
    db_timeout: float = 5.0
    event_rate_limit: float = 20.0
    event_rate_burst: int = 200
    dni_rate_limit: float = 2.0
    dni_rate_burst: int = 60
    dni_renew_s: float = 300.0
    honour_dnt: bool = False
    db_pool_size: int = 10
    db_startup_wait: float = 30.0
    utm_sources: tuple[str, ...] = ()
    utm_mediums: tuple[str, ...] = ()
    allowed_destination_hosts: tuple[str, ...] = ()
    session_hours: float = 12.0
    log_level: str = "info"
    outbound_log_level: str = "warning"
    healthcheck_interval: float = 3600.0
    healthcheck_timeout: float = 10.0
    healthcheck_allow_private: bool = False
    destination_allow_private: bool = False
    forward_enabled: bool = True
    forward_batch: int = 1000
    forward_lease_s: float = 60.0
    forward_poll_s: float = 1.0
    forward_timeout_s: float = 10.0
    forward_max_attempts: int = 12
    forward_backoff_s: float = 10.0
    oauth_google_token_url: str = "https://oauth2.googleapis.com/token"
    oauth_google_auth_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    oauth_linkedin_token_url: str = "https://www.linkedin.com/oauth/v2/accessToken"
    oauth_linkedin_auth_url: str = "https://www.linkedin.com/oauth/v2/authorization"
    twilio_auth_token: str = ""
    twilio_shared_key: str = ""
    vonage_signature_secret: str = ""
    telnyx_public_key: str = ""
    cpu_workers: int = 2
    worker_queue: int = 32
    metrics_token: str = ""
    retention_hits_days: int = 395
    retention_events_days: int = 395
    retention_visits_days: int = 395
    retention_touches_days: int = 395
    retention_credits_days: int = 0
    retention_conversions_days: int = 90
    retention_outbox_days: int = 90
    retention_calls_days: int = 90
    retention_leases_days: int = 30
    retention_sessions_days: int = 1
    retention_audit_days: int = 395
    purge_enabled: bool = True
    purge_batch: int = 5000
    purge_start_delay_s: float = 300.0
    rollup_refresh_s: float = 5.0
    rollup_max_lag_s: float = 60.0
    credit_interval_s: float = 2.0
    privacy_mode: str = "standard"
    webhook_allow_private: bool = False
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid email profile"
    oidc_username_claim: str = "preferred_username"
    oidc_new_users: str = "off"
    report_schedule: str = "off"
    report_hour: int = 7
    report_to: tuple[str, ...] = ()
    smtp_url: str = field(default="", repr=False)  # may hold the relay's password
    smtp_from: str = ""
    alert_interval_s: float = 300.0
    alert_dead_letters: int = 20
    alert_kpi_hour: int = 6
    alert_kpi_p: float = 0.01
    alert_kpi_min_change: float = 0.2
    alert_kpi_min_conversions: int = 30
    alert_kpi_min_traffic: int = 100
    extra: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    # The settings read from the environment or .env; the others are defaults. An unset
    # BASE_URL follows HOST and PORT, an unset DATABASE_URL is the current folder's file.
    given: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    @property
    def oidc(self) -> bool:
        """Whether single sign-on with OpenID Connect is on."""
        return bool(self.oidc_issuer)

    @property
    def default_host(self) -> str:
        """Host part of BASE_URL: where links without a domain of their own are shared."""
        return (urlsplit(self.base_url).hostname or "").lower()

    def serving_on(self, host: str, port: int) -> Settings:
        """These settings for a server listening on host:port: an unset BASE_URL follows it."""
        if "base_url" in self.given:
            return self
        return replace(self, host=host, port=port, base_url=local_base_url(host, port))


# Fields of Settings that are not read from the environment.
_NOT_SETTINGS = {"extra", "given"}


def local_base_url(host: str, port: int) -> str:
    """The address a browser on this machine reaches a server listening on host:port by."""
    if host in {"", "0.0.0.0", "::"}:
        host = "127.0.0.1"  # listening everywhere: loopback is one of them
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def setting_names() -> list[str]:
    """The environment variable of every setting, for docs and the documentation test."""
    return [PREFIX + f.name.upper() for f in fields(Settings) if f.name not in _NOT_SETTINGS]


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{PREFIX}{name.upper()} must be true or false, not {raw!r}", field=name)


def _parse_number(name: str, raw: str, kind: type[int] | type[float]) -> int | float:
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(
            f"{PREFIX}{name.upper()} must be a number, not {raw!r}", field=name
        ) from None
    if value < 0:
        raise ConfigError(f"{PREFIX}{name.upper()} must not be negative", field=name)
    return value


def _parse_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _parse_networks(raw: str) -> tuple[Network, ...]:
    nets: list[Network] = []
    for item in _parse_list(raw):
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"{PREFIX}TRUSTED_PROXIES: {item!r} is not an IP address or CIDR network",
                field="trusted_proxies",
            ) from None
    return tuple(nets)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file; only FIRSTMARK_* keys are kept."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        if key.startswith(PREFIX):
            values[key] = value.strip().strip("'\"")
    return values


def load_secret(path: Path) -> str:
    """Read the server secret, creating it (mode 0600) on first run."""
    try:
        secret = path.read_text().strip()
        if secret:
            return secret
    except FileNotFoundError:
        pass
    secret = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
    except OSError as exc:
        raise ConfigError(f"cannot write the secret key file {path}: {exc.strerror}") from None
    return secret


def from_env(
    environ: Mapping[str, str] | None = None,
    *,
    env_file: Path | None = Path(".env"),
    secret: bool = True,
) -> Settings:
    """Build Settings from the environment; a .env file fills in what the environment lacks.
    With `secret=False` the secret key is left to `with_secret` (no file is made yet)."""
    env: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        env.update(read_env_file(env_file))
    env.update(os.environ if environ is None else environ)

    values: dict[str, object] = {}
    for f in fields(Settings):
        if f.name in _NOT_SETTINGS:
            continue
        raw = env.get(PREFIX + f.name.upper())
        if raw is None:
            continue
        default = f.default
        if f.name == "trusted_proxies":
            values[f.name] = _parse_networks(raw)
        elif isinstance(default, bool):
            values[f.name] = _parse_bool(f.name, raw)
        elif isinstance(default, int):
            values[f.name] = int(_parse_number(f.name, raw, int))
        elif isinstance(default, float):
            values[f.name] = float(_parse_number(f.name, raw, float))
        elif isinstance(default, tuple):
            values[f.name] = _parse_list(raw)
        else:
            values[f.name] = raw.strip()

    settings = Settings(**values, given=frozenset(values))  # type: ignore[arg-type]  # parsed
    settings = settings.serving_on(settings.host, settings.port)
    _check(settings)
    return with_secret(settings) if secret else settings


def with_secret(settings: Settings) -> Settings:
    """`settings` with their secret key: given, else read from (or made in) its file."""
    if settings.secret_key:
        return settings
    return replace(settings, secret_key=load_secret(Path(settings.secret_key_file)))


def _check(settings: Settings) -> None:
    url = urlsplit(settings.base_url)
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise ConfigError(
            f"{PREFIX}BASE_URL must be an http(s) URL, not {settings.base_url!r}", field="base_url"
        )
    if not settings.database_url.startswith(("sqlite:", "postgresql:", "postgres:")):
        raise ConfigError(
            f"{PREFIX}DATABASE_URL must start with sqlite:/// or postgresql://, "
            f"not {settings.database_url!r}",
            field="database_url",
        )
    if settings.hit_batch < 1 or settings.hit_buffer < settings.hit_batch:
        raise ConfigError(
            f"{PREFIX}HIT_BUFFER must be at least {PREFIX}HIT_BATCH (and both above 0)",
            field="hit_buffer",
        )
    if settings.session_hours <= 0:
        raise ConfigError(f"{PREFIX}SESSION_HOURS must be above 0", field="session_hours")
    if settings.forward_batch < 1 or settings.forward_max_attempts < 1:
        raise ConfigError(
            f"{PREFIX}FORWARD_BATCH and {PREFIX}FORWARD_MAX_ATTEMPTS must be at least 1",
            field="forward_batch",
        )
    if settings.forward_lease_s <= settings.forward_timeout_s:
        raise ConfigError(
            f"{PREFIX}FORWARD_LEASE_S must be longer than {PREFIX}FORWARD_TIMEOUT_S, or a slow "
            "platform would see its rows claimed twice",
            field="forward_lease_s",
        )
    if settings.keep_alive <= 0:
        raise ConfigError(f"{PREFIX}KEEP_ALIVE must be above 0 seconds", field="keep_alive")
    if settings.cpu_workers < 1:
        raise ConfigError(f"{PREFIX}CPU_WORKERS must be at least 1", field="cpu_workers")
    if settings.rollup_refresh_s > 0 and settings.rollup_max_lag_s <= settings.rollup_refresh_s:
        raise ConfigError(
            f"{PREFIX}ROLLUP_MAX_LAG_S must be longer than {PREFIX}ROLLUP_REFRESH_S, or reports "
            "would rebuild what the refresher is about to",
            field="rollup_max_lag_s",
        )
    if settings.credit_interval_s < 0:
        raise ConfigError(
            f"{PREFIX}CREDIT_INTERVAL_S must be 0 (off) or more", field="credit_interval_s"
        )
    if settings.purge_batch < 1:
        raise ConfigError(f"{PREFIX}PURGE_BATCH must be at least 1", field="purge_batch")
    if settings.privacy_mode not in {"standard", "exempt"}:
        raise ConfigError(
            f"{PREFIX}PRIVACY_MODE must be standard or exempt, not {settings.privacy_mode!r}",
            field="privacy_mode",
        )
    if settings.report_schedule not in {"off", "daily", "weekly"}:
        raise ConfigError(
            f"{PREFIX}REPORT_SCHEDULE must be off, daily or weekly, "
            f"not {settings.report_schedule!r}",
            field="report_schedule",
        )
    if settings.report_hour > 23:
        raise ConfigError(f"{PREFIX}REPORT_HOUR must be 0-23 (UTC)", field="report_hour")
    if settings.alert_kpi_hour > 23:
        raise ConfigError(f"{PREFIX}ALERT_KPI_HOUR must be 0-23 (UTC)", field="alert_kpi_hour")
    if not 0 < settings.alert_kpi_p < 1:
        raise ConfigError(f"{PREFIX}ALERT_KPI_P must be above 0 and below 1", field="alert_kpi_p")
    if not 0 < settings.alert_kpi_min_change < 1:
        raise ConfigError(
            f"{PREFIX}ALERT_KPI_MIN_CHANGE must be above 0 and below 1 (0.2 is 20 %)",
            field="alert_kpi_min_change",
        )
    if settings.alert_kpi_min_conversions < 1 or settings.alert_kpi_min_traffic < 1:
        raise ConfigError(
            f"{PREFIX}ALERT_KPI_MIN_CONVERSIONS and {PREFIX}ALERT_KPI_MIN_TRAFFIC must be at "
            "least 1",
            field="alert_kpi_min_conversions",
        )
    for address in (*settings.report_to, *([settings.smtp_from] if settings.smtp_from else [])):
        if "@" not in address.strip("@") or any(c.isspace() or c in "<>,;" for c in address):
            # The address itself is not repeated: it is personal data, and errors get logged.
            raise ConfigError(
                f"{PREFIX}REPORT_TO and {PREFIX}SMTP_FROM must be e-mail addresses "
                "(name@example.com), comma separated",
                field="report_to",
            )
    if settings.smtp_url:
        parse_relay(settings.smtp_url)  # its errors never repeat the URL: it holds a password
    param = settings.click_token_param
    if not param or not param.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(
            f"{PREFIX}CLICK_TOKEN_PARAM must be letters, digits, '_' or '-', not {param!r}",
            field="click_token_param",
        )
    _check_oidc(settings)


def _check_oidc(settings: Settings) -> None:
    """Single sign-on settings: all or nothing, so a half-configured provider fails at start
    rather than at the first sign-in."""
    if not settings.oidc:
        return
    issuer = urlsplit(settings.oidc_issuer)
    loopback = issuer.hostname in {"localhost", "127.0.0.1", "::1"}
    if not issuer.hostname or not (
        issuer.scheme == "https" or (issuer.scheme == "http" and loopback)
    ):
        raise ConfigError(
            f"{PREFIX}OIDC_ISSUER must be an https URL (http only on localhost), "
            f"not {settings.oidc_issuer!r}",
            field="oidc_issuer",
        )
    if issuer.query or issuer.fragment:
        raise ConfigError(
            f"{PREFIX}OIDC_ISSUER must have no query or fragment", field="oidc_issuer"
        )
    if not settings.oidc_client_id or not settings.oidc_client_secret:
        raise ConfigError(
            f"{PREFIX}OIDC_CLIENT_ID and {PREFIX}OIDC_CLIENT_SECRET are needed with "
            f"{PREFIX}OIDC_ISSUER",
            field="oidc_client_id",
        )
    if "openid" not in settings.oidc_scopes.split():
        raise ConfigError(
            f"{PREFIX}OIDC_SCOPES must include openid, not {settings.oidc_scopes!r}",
            field="oidc_scopes",
        )
    if not settings.oidc_username_claim:
        raise ConfigError(
            f"{PREFIX}OIDC_USERNAME_CLAIM must name a claim", field="oidc_username_claim"
        )
    allowed = ["off", *(role for role in ROLES if role != OWNER)]
    if settings.oidc_new_users not in allowed:
        raise ConfigError(
            f"{PREFIX}OIDC_NEW_USERS must be one of {', '.join(allowed)}, "
            f"not {settings.oidc_new_users!r}",
            field="oidc_new_users",
        )
