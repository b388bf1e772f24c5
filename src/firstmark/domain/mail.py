"""The mail relay of FIRSTMARK_SMTP_URL, read without ever repeating its password.

smtp://user:password@host:587?starttls=1   plain connection upgraded by STARTTLS
smtps://user:password@host:465             TLS from the first byte
smtp://host:25                             a relay that needs no login
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from firstmark.errors import ConfigError

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
YES = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Relay:
    host: str
    port: int
    tls: bool  # smtps: TLS from the start
    starttls: bool
    username: str = ""
    password: str = field(default="", repr=False)

    def __str__(self) -> str:
        """How logs name the relay: never the login."""
        return f"{'smtps' if self.tls else 'smtp'}://{self.host}:{self.port}"


def parse_relay(url: str) -> Relay:
    """The relay of an smtp:// or smtps:// URL. Errors name the setting, never its value."""
    bad = ConfigError(
        "FIRSTMARK_SMTP_URL must look like smtp://user:password@host:587?starttls=1 "
        "or smtps://user:password@host:465",
        field="smtp_url",
    )
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise bad from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise bad
    options = parse_qs(parts.query)
    unknown = set(options) - {"starttls"}
    if unknown:
        raise ConfigError(
            f"FIRSTMARK_SMTP_URL: unknown option {sorted(unknown)[0]!r} (only starttls)",
            field="smtp_url",
        )
    starttls = any(v.lower() in YES for v in options.get("starttls", []))
    if parts.scheme == "smtps" and starttls:
        raise ConfigError(
            "FIRSTMARK_SMTP_URL: smtps:// is TLS already; starttls=1 is for smtp://",
            field="smtp_url",
        )
    return Relay(
        host=parts.hostname,
        port=port or DEFAULT_PORTS[parts.scheme],
        tls=parts.scheme == "smtps",
        starttls=starttls,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )
