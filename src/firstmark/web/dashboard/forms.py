"""The dashboard's link form: HTML form fields to the same flat keys the API takes.

One validator (domain/links.py) serves the API, the CLI and this form, so a link the dashboard
refuses is one the API refuses too, with the same message on the same field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from firstmark.domain.links import Link
from firstmark.domain.redirects import Destination
from firstmark.domain.utm import UTM_FIELDS
from firstmark.domain.variants import variant_line, variant_spec
from firstmark.errors import InvalidField

TEXT_FIELDS = ("destination", "code", "domain", *UTM_FIELDS, "campaign", "placement")
OPTIONAL_FIELDS = ("valid_from", "expires_at", "fallback_url")
FLAGS = ("forward_query", "click_token", "noindex")
# Every field the form shows, in page order: an error on another field is shown at the top.
FIELDS = (
    *TEXT_FIELDS, "tags", "kind", "redirect_status", *OPTIONAL_FIELDS, "max_hits", "password",
    *FLAGS, "variants",
)  # fmt: skip
LOCAL_TIME = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


def body(get: Callable[[str], str], has: Callable[[str], bool], *, editing: bool) -> dict[str, Any]:
    """The link keys of a submitted form. On create an empty field is left out (defaults
    apply); on edit it clears the value, except the password, which an empty field keeps."""
    out: dict[str, Any] = {}
    for name in (*TEXT_FIELDS, *OPTIONAL_FIELDS):
        value = get(name).strip()
        if value:
            out[name] = value
        elif editing:
            out[name] = None
    tags = [t.strip() for t in get("tags").split(",") if t.strip()]
    if tags or editing:
        out["tags"] = tags
    kind = get("kind")
    if kind or editing:
        out["kind"] = kind or "link"
    status = get("redirect_status").strip()
    if status:
        out["redirect_status"] = int(status) if status.isdigit() else status
    max_hits = get("max_hits").strip()
    if max_hits:
        if not max_hits.isdigit():
            raise InvalidField("max_hits", "max_hits must be a whole number", code="invalid_type")
        out["max_hits"] = int(max_hits)
    elif editing:
        out["max_hits"] = None
    password = get("password")
    if password:
        out["password"] = password
    elif editing and has("remove_password"):
        out["password"] = None
    for flag in FLAGS:
        out[flag] = has(flag)
    lines = [line for line in get("variants").splitlines() if line.strip()]
    if lines:
        out["variants"] = [variant_spec(line) for line in lines]
        if not out.get("destination"):
            out["destination"] = out["variants"][0]["url"]
    elif editing:
        out["variants"] = None
    return out


def values_of(link: Link) -> dict[str, str]:
    """A stored link as the form's field values."""
    out = {name: getattr(link, name) or "" for name in TEXT_FIELDS}
    for name in ("valid_from", "expires_at"):
        when: datetime | None = getattr(link, name)
        out[name] = when.strftime(LOCAL_TIME) if when else ""
    out["fallback_url"] = link.fallback_url or ""
    out["tags"] = ", ".join(link.tags)
    out["kind"] = link.kind
    out["redirect_status"] = str(link.redirect_status)
    out["max_hits"] = "" if link.max_hits is None else str(link.max_hits)
    for flag in FLAGS:
        out[flag] = "on" if getattr(link, flag) else ""
    out["variants"] = "\n".join(variant_line(v) for v in link.variants)
    return out


def submitted(get: Callable[[str], str], has: Callable[[str], bool]) -> dict[str, str]:
    """The form as typed, to show again after an error (never the password)."""
    out = {name: get(name) for name in FIELDS if name not in ("password", *FLAGS)}
    for flag in FLAGS:
        out[flag] = "on" if has(flag) else ""
    return out


def final_url(link: Link) -> str:
    """The destination with the link's UTM tags, as a click is sent (before the click token)."""
    destination = Destination.of(link.destination, link.utm_params())
    return destination.base + destination.fragment
