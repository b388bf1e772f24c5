"""Sites: the websites allowed to send events, each with a public key and its host names."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firstmark.domain.links import BASE62, normalise_host
from firstmark.domain.times import iso
from firstmark.errors import InvalidField

KEY_PATTERN = re.compile(r"fms_[A-Za-z0-9]{16}")
MAX_HOSTS = 50
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    key: str
    hosts: tuple[str, ...]
    id: int | None = None
    created_at: datetime | None = None

    def allows(self, host: str) -> bool:
        return host in self.hosts


def new_key() -> str:
    """A public site key: it names the site in the script tag and is no secret."""
    return "fms_" + "".join(secrets.choice(BASE62) for _ in range(16))


def parse_hosts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise InvalidField("hosts", "hosts must be a non-empty list of host names", code="required")
    if len(value) > MAX_HOSTS:
        raise InvalidField("hosts", f"a site has at most {MAX_HOSTS} hosts")
    hosts: list[str] = []
    for item in value:
        host = normalise_host(item, "hosts")
        if not host:
            raise InvalidField("hosts", "a host name may not be empty")
        if host not in hosts:
            hosts.append(host)
    return tuple(hosts)


def new_site(data: object, now: datetime) -> Site:
    if not isinstance(data, dict):
        raise InvalidField("body", "send a JSON object", code="invalid_type")
    unknown = set(data) - {"name", "hosts"}
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidField(name, f"unknown field {name!r}", code="unknown_field")
    hosts = parse_hosts(data.get("hosts"))
    name = data.get("name", hosts[0])
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidField("name", f"name must be text of 1 to {MAX_NAME} characters")
    return Site(name=name.strip(), key=new_key(), hosts=hosts, created_at=now)


def to_json(site: Site, base_url: str) -> dict[str, Any]:
    script = f"{base_url.rstrip('/')}/fm.js"
    return {
        "id": site.id,
        "name": site.name,
        "key": site.key,
        "hosts": list(site.hosts),
        "created_at": iso(site.created_at),
        "snippet": f'<script defer src="{script}" data-site="{site.key}"></script>',
    }
